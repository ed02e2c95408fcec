"""Dictionary-compressed weight decoder (HardCompress-style, HC-P v0)."""
