"""A real MCP client (the official Python SDK) driving `velos mcp`, for tests/mcp.rs.

usage: mcp_session.py SCENARIO VELOS_BIN VELOS_HOME [ARG...]

Each scenario checks what a client sees and prints one JSON object on its last stdout line, which the Rust
test reads (and checks against the host). A failed check raises: the exit status is then non-zero and the
traceback says which.
"""

import asyncio
import json
import subprocess
import sys

from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters

BYTES_PER_TOKEN = 4
READ_TOOLS = [
    "app_info",
    "diff",
    "history",
    "list_apps",
    "logs_search",
    "logs_summary",
    "logs_tail",
    "metrics",
    "plan",
    "project_status",
]


def params(velos, home, *extra):
    return StdioServerParameters(command=velos, args=["mcp", *extra], env={"VELOS_HOME": home})


def text_of(result):
    return "".join(block.text for block in result.content if getattr(block, "type", "") == "text")


def tokens(text):
    return (len(text.encode()) + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN


async def call(client, name, arguments):
    result = await client.call_tool(name, arguments)
    text = text_of(result)
    return result, text


async def call_ok(client, name, arguments, budget=2000):
    result, text = await call(client, name, arguments)
    assert not result.is_error, f"{name} {arguments}: {text}"
    assert result.structured_content is not None, f"{name}: no structured content"
    assert json.loads(text) == result.structured_content, f"{name}: the text copy differs from the structure"
    assert tokens(text) <= budget, f"{name} {arguments}: {tokens(text)} tokens > budget {budget}"
    return result.structured_content, tokens(text)


def snapshot(tools):
    """Names, annotations and schemas: what the golden file holds."""
    listed = []
    for tool in sorted(tools, key=lambda tool: tool.name):
        listed.append(
            {
                "name": tool.name,
                "description": tool.description,
                "annotations": tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else None,
                "inputSchema": tool.input_schema,
                "outputSchema": tool.output_schema,
            }
        )
    return listed


async def read(velos, home, chatty, project, file):
    """Discover, list tools, call every read tool, page, propose, and try the tools the policy denies."""
    async with Client(params(velos, home), mode="auto") as client:
        assert client.protocol_version == "2026-07-28", client.protocol_version
        tools = (await client.list_tools()).tools
        names = sorted(tool.name for tool in tools)
        assert "apply_proposal" not in names and "restart_app" not in names and "reload" not in names, names
        sizes = {}
        for name, arguments in [
            ("list_apps", {}),
            ("app_info", {"name": chatty}),
            ("logs_tail", {"name": chatty, "lines": 5000}),
            ("logs_tail", {"name": chatty, "level": "error", "lines": 5000}),
            ("logs_search", {"name": chatty, "query": "ERROR"}),
            ("logs_summary", {"name": chatty}),
            ("metrics", {}),
            ("metrics", {"name": chatty}),
            ("project_status", {}),
            ("history", {}),
            ("plan", {"project": project}),
            ("diff", {"project": project}),
            ("plan", {"file": file}),
            ("diff", {"file": file, "patch": {"apps": {"worker": None}}}),
        ]:
            structured, used = await call_ok(client, name, arguments)
            sizes[f"{name} {json.dumps(arguments, sort_keys=True)}"] = used
        # A small budget is honoured too, and the cursor goes on to older lines without repeating.
        first, used = await call_ok(client, "logs_tail", {"name": chatty, "lines": 5000, "budget": 300}, budget=300)
        assert first["truncated"] and first["next_cursor"], first
        second, _ = await call_ok(
            client, "logs_tail", {"name": chatty, "lines": 5000, "budget": 300, "cursor": first["next_cursor"]}, budget=300
        )
        assert second["lines"] and second["lines"][-1]["t"] != first["lines"][-1]["t"], (first, second)
        assert first["untrusted"], first
        search, _ = await call_ok(client, "logs_search", {"name": chatty, "query": "ERROR", "budget": 300}, budget=300)
        assert search["matches"], search
        # logs_search reads the live file: how many matches it holds depends on where rotation cut it, so a
        # second page exists only when the first was cut; then it goes on after the first.
        if search["next_cursor"]:
            more, _ = await call_ok(
                client, "logs_search", {"name": chatty, "query": "ERROR", "budget": 300, "cursor": search["next_cursor"]}, budget=300
            )
            assert more["matches"][0]["l"] > search["matches"][-1]["l"], (search, more)
        else:
            assert not search["truncated"], search
        # Unknown names get the close ones.
        result, text = await call(client, "app_info", {"name": chatty[:-1]})
        assert result.is_error and "did you mean" in text, text
        both, text = await call(client, "plan", {"project": project, "file": file})
        assert both.is_error and "not both" in text, text
        # A patch planned (changes nothing), then proposed.
        patch = {"apps": {"web": {"env": {"PORT": "8081"}}}}
        planned, _ = await call_ok(client, "plan", {"project": project, "patch": patch})
        assert planned["valid"] and "replace web" in planned["plan"], planned
        proposed, _ = await call_ok(client, "propose_patch", {"project": project, "patch": patch, "reason": "port clash on 8000"})
        assert proposed["valid"] and "8081" in proposed["diff"] and proposed["id"].startswith("p-"), proposed
        invalid, _ = await call_ok(
            client, "propose_patch", {"project": project, "patch": {"apps": {"web": {"kill_timeout": 5}}}, "reason": "x"}
        )
        assert not invalid["valid"] and "kill_timeout" in invalid["diagnostics"][0]["message"], invalid
        # Tools the policy does not allow are refused when called anyway.
        refusals = {}
        for name, arguments in [
            ("apply_proposal", {"id": proposed["id"]}),
            ("restart_app", {"name": "web"}),
            ("reload", {"name": "web"}),
        ]:
            result, text = await call(client, name, arguments)
            assert result.is_error and "not allowed" in text, text
            refusals[name] = text
        return {
            "protocol": client.protocol_version,
            "tools": snapshot(tools),
            "sizes": sizes,
            "proposal": proposed["id"],
            "refusals": refusals,
        }


async def propose(velos, home, project, patch, reason):
    async with Client(params(velos, home), mode="auto") as client:
        proposed, _ = await call_ok(client, "propose_patch", {"project": project, "patch": json.loads(patch), "reason": reason})
        return {"proposal": proposed["id"], "valid": proposed["valid"], "plan": proposed["plan"]}


async def apply(velos, home, project, patch):
    """With `[velos.agents] apply = true` and `restart = true`: both tools are listed, annotated destructive,
    and act."""
    async with Client(params(velos, home), mode="legacy") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert "apply_proposal" in tools and "restart_app" in tools and "reload" in tools, sorted(tools)
        for name in ["apply_proposal", "restart_app", "reload"]:
            assert tools[name].annotations.destructive_hint is True and tools[name].annotations.read_only_hint is False
        proposed, _ = await call_ok(client, "propose_patch", {"project": project, "patch": json.loads(patch), "reason": "agent fix"})
        applied, _ = await call_ok(client, "apply_proposal", {"id": proposed["id"]})
        assert applied["state"] == "approved" and applied["ok"], applied
        restarted, _ = await call_ok(client, "restart_app", {"name": "web"})
        assert [app["name"] for app in restarted["apps"]] == ["web"], restarted
        reloaded, _ = await call_ok(client, "reload", {"name": "web"})
        assert [app["name"] for app in reloaded["apps"]] == ["web"], reloaded
        assert reloaded["apps"][0]["pid"] != restarted["apps"][0]["pid"], (restarted, reloaded)
        return {"proposal": proposed["id"], "plan": applied["plan"]}


async def down(velos, home):
    async with Client(params(velos, home), mode="auto") as client:
        result, text = await call(client, "list_apps", {})
        assert result.is_error and "not running" in text and "--start-daemon" in text, text
        return {"error": text}


def legacy(velos, home):
    """The 2025-06-18 handshake over raw stdio; every stdout line must be one JSON-RPC message."""
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw-client", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_apps", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "logs_tail", "arguments": {"name": "nope"}}},
    ]
    process = subprocess.Popen(
        [velos, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={"VELOS_HOME": home}
    )
    replies = {}
    for message in messages:
        process.stdin.write((json.dumps(message) + "\n").encode())
        process.stdin.flush()
        if "id" in message:
            line = process.stdout.readline()
            reply = json.loads(line)
            assert reply.get("jsonrpc") == "2.0", line
            replies[reply["id"]] = reply
    process.stdin.close()
    rest = process.stdout.read()
    stderr = process.stderr.read()
    status = process.wait(timeout=10)
    for line in rest.splitlines():
        assert json.loads(line).get("jsonrpc") == "2.0", line
    assert status == 0, (status, stderr)
    assert replies[1]["result"]["protocolVersion"] == "2025-06-18", replies[1]
    assert {tool["name"] for tool in replies[2]["result"]["tools"]} >= set(READ_TOOLS), replies[2]
    assert "structuredContent" in replies[3]["result"], replies[3]
    assert replies[4]["result"]["isError"], replies[4]
    return {"protocol": replies[1]["result"]["protocolVersion"], "stderr": stderr.decode()}


def main():
    scenario, velos, home, *rest = sys.argv[1:]
    if scenario == "legacy":
        report = legacy(velos, home)
    else:
        report = asyncio.run({"read": read, "propose": propose, "apply": apply, "down": down}[scenario](velos, home, *rest))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
