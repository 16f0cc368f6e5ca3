"""One module per export format: write(chat, out_dir) -> Path."""
