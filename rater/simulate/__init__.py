"""Simulated rating campaigns (``campaign``) and their summary (``report``)."""
