"""Cross-department verification (家庭经济状况核对): registry connectors and the activity."""
