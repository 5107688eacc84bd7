"""Notebook 03: leaderboards on sorted sets, their tie rules, time windows, scale and views."""
