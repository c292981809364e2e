"""Channel adapters: the only code that speaks Twilio's or Telegram's wire formats."""
