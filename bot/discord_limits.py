"""What Discord refuses in a message (400, code 50035): its length and count limits, which the
fake Discord (:mod:`bot.fake_discord`) checks so a test fails where production would."""

from __future__ import annotations

from typing import Any

LIMITS = {
    "content": 2000,
    "embeds": 10,
    "fields": 25,
    "title": 256,
    "description": 4096,
    "field_name": 256,
    "field_value": 1024,
    "footer": 2048,
    "author": 256,
    "embed_total": 6000,
    "choices": 25,
    "components": 5,
}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _embed_problems(i: int, embed: dict[str, Any]) -> tuple[list[str], int]:
    problems: list[str] = []
    title = _text(embed.get("title"))
    description = _text(embed.get("description"))
    footer = _text((embed.get("footer") or {}).get("text"))
    author = _text((embed.get("author") or {}).get("name"))
    fields = embed.get("fields") or []
    total = len(title) + len(description) + len(footer) + len(author)
    for name, value, limit in (
        ("title", title, LIMITS["title"]),
        ("description", description, LIMITS["description"]),
        ("footer.text", footer, LIMITS["footer"]),
        ("author.name", author, LIMITS["author"]),
    ):
        if len(value) > limit:
            problems.append(f"embeds.{i}.{name}: must be {limit} or fewer in length")
    if len(fields) > LIMITS["fields"]:
        problems.append(f"embeds.{i}.fields: must be {LIMITS['fields']} or fewer in length")
    for j, f in enumerate(fields):
        name, value = _text(f.get("name")), _text(f.get("value"))
        total += len(name) + len(value)
        if not name.strip() or len(name) > LIMITS["field_name"]:
            problems.append(f"embeds.{i}.fields.{j}.name: must be 1-{LIMITS['field_name']} in length")
        if not value.strip() or len(value) > LIMITS["field_value"]:
            problems.append(f"embeds.{i}.fields.{j}.value: must be 1-{LIMITS['field_value']} in length")
    return problems, total


def message_problems(body: Any) -> list[str]:
    """Why Discord would refuse this message payload (400, code 50035), or nothing."""
    if not isinstance(body, dict):
        return []
    problems: list[str] = []
    if len(_text(body.get("content"))) > LIMITS["content"]:
        problems.append(f"content: must be {LIMITS['content']} or fewer in length")
    embeds = body.get("embeds") or []
    if len(embeds) > LIMITS["embeds"]:
        problems.append(f"embeds: must be {LIMITS['embeds']} or fewer in length")
    total = 0
    for i, embed in enumerate(embeds):
        found, size = _embed_problems(i, embed if isinstance(embed, dict) else {})
        problems += found
        total += size
    if total > LIMITS["embed_total"]:
        problems.append(f"embeds: {total} characters in all, more than {LIMITS['embed_total']}")
    if len(body.get("components") or []) > LIMITS["components"]:
        problems.append(f"components: must be {LIMITS['components']} or fewer in length")
    if len(body.get("choices") or []) > LIMITS["choices"]:
        problems.append(f"choices: must be {LIMITS['choices']} or fewer in length")
    return problems


def invalid_form(problems: list[str]) -> tuple[int, Any]:
    return 400, {"message": "Invalid Form Body", "code": 50035, "errors": problems}
