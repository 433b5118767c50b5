"""Screens of the terminal app: help, code viewer, sessions, small dialogs."""
