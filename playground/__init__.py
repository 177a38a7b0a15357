"""`frontdesk playground`: the whole desk in a browser, against an embedded Bot API stand-in."""
