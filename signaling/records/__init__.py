"""Meeting records: attendance, recordings and their composition, who may see a
record, its minutes, and retention."""
