"""visitplan: treatment-protocol scheduling for clinics."""

__version__ = "0.1.0"
