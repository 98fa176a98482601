"""notifier: RSS/Atom keyword watches and deadline reminders, delivered through Apprise."""

__version__ = "0.1.0"
