"""Notebook 01: a fleet of app servers behind a load balancer, played by simulated browsers."""
