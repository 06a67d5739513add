"""Incentives: service credits, bonuses, earn-back and settlements (docs/incentives.md)."""
