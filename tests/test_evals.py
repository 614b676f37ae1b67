"""helpers/evals.py: a run's tool calls read back as data, and rows print as a table."""

from helpers.evals import Run, ToolCall, print_table


def test_a_tool_call_parses_its_arguments_and_result_or_says_none():
    call = ToolCall("lookup_order", '{"order_id": 1025}', '{"error": "You have no order 1025."}')
    assert call.parsed_arguments() == {"order_id": 1025}
    assert call.parsed_result() == {"error": "You have no order 1025."}
    assert ToolCall("lookup_order", "order 1025 please", "not json").parsed_arguments() is None
    assert ToolCall("lookup_order", "[1025]", "[]").parsed_arguments() is None  # JSON, but not an object
    assert ToolCall("lookup_order", "{}", "not json").parsed_result() == {}


def test_a_made_up_run_starts_empty():
    run = Run("made up")
    assert (run.reply, run.tools, run.pending, run.tickets_written) == ("", [], [], 0)


def test_the_table_aligns_columns_and_says_pass_or_fail(capsys):
    print_table([{"case": "own order", "tool": True, "seconds": 1.234}, {"case": "x", "tool": False, "seconds": None}])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["case", "tool", "seconds"]
    assert lines[1].split() == ["own", "order", "pass", "1.23"] and lines[2].split() == ["x", "FAIL", "-"]
    assert lines[1].index("pass") == lines[2].index("FAIL") == lines[0].index("tool")


def test_an_empty_table_says_so(capsys):
    print_table([])
    assert capsys.readouterr().out == "(no rows)\n"
