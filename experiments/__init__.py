"""Studies and benchmarks: one file per study, each with a Config dataclass and main(cfg)."""
