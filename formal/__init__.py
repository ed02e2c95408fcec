"""Formal proofs of the cores' stream contracts (SymbiYosys through yowasp, yices)."""
