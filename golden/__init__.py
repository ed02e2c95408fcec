"""Golden models: pure Python + numpy, no amaranth or cocotb imports, both directions."""
