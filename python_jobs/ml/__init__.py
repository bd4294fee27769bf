"""Phase 5/6 machine learning: feature spec, prediction systems, training, scoring, backtest, export."""
