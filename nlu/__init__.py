"""Understanding of customer messages, behind a Rasa-shaped interface."""
