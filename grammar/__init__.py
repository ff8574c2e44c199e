"""The .stream grammar (stream.lark), shipped inside the wheel as streamc.grammar."""
