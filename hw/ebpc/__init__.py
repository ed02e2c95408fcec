"""EBPC compressor and decompressor: one Component per stage and their tops.

The stream format is ``docs/ebpc-format.md``; ``golden/ebpc.py`` is the bit-exact model that
every stage is tested against.
"""
