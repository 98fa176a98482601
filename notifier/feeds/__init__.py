"""Feeds: fetch (HTTP) and parse (feedparser); no decisions."""
