from shequn.cli import run

run()
