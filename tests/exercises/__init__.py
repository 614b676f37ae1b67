"""Each lesson's exercises, one test file per lesson, named after its notebook (test_09_tool_calling.py)."""
