"""The bakery code location."""
