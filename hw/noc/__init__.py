"""Hardware of the NoC weight-compression scheme (Ascia et al., IPDPSW 2020)."""
