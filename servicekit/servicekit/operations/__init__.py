"""What operators use: the declared topology; topics, lag, dead letters and replay;
projection rebuilds; and the `marketplace` command over them."""
