"""hfbench: which Hugging Face model to run for a job on this machine, and how good and fast it is."""

__version__ = "0.1.0"
