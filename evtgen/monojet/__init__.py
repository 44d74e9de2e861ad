"""LO generator for pp -> j + phi phi (contact operators) and pp -> j + S at the LHC."""
