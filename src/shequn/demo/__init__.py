"""`shequn demo`: a generated, seeded community program written as real export files."""
