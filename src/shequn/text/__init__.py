"""Conversation intelligence: questions, feedback, off-topic, theme, rituals (issue 4)."""
