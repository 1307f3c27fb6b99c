"""Flask web application for resident-satisfaction surveys."""
