"""What Discord refuses in a message payload (400, code 50035), checked by the loopback fake so a
test fails where production would: embed sizes, and the components (action rows of buttons)
that reply controls and alerts carry."""

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
    "components": 5,  # action rows per message
    "row_items": 5,  # buttons per action row
    "label": 80,
    "custom_id": 100,
}
ACTION_ROW, BUTTON = 1, 2
LINK_STYLE = 5


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


def _button_problems(where: str, button: dict[str, Any], seen: set[str]) -> list[str]:
    problems: list[str] = []
    label = _text(button.get("label"))
    if len(label) > LIMITS["label"]:
        problems.append(f"{where}.label: must be {LIMITS['label']} or fewer in length")
    if not label and not button.get("emoji"):
        problems.append(f"{where}: a button needs a label or an emoji")
    if button.get("style") == LINK_STYLE:
        if not _text(button.get("url")):
            problems.append(f"{where}.url: a link button needs a url")
        return problems
    custom_id = _text(button.get("custom_id"))
    if not 1 <= len(custom_id) <= LIMITS["custom_id"]:
        problems.append(f"{where}.custom_id: must be 1-{LIMITS['custom_id']} in length")
    elif custom_id in seen:
        problems.append(f"{where}.custom_id: component custom id cannot be duplicated")
    seen.add(custom_id)
    return problems


def component_problems(rows: Any) -> list[str]:
    """Action rows of buttons: at most 5 rows of at most 5 buttons, labels ≤ 80, custom ids of
    1–100 characters and unique within the message."""
    if not isinstance(rows, list):
        return []
    problems: list[str] = []
    if len(rows) > LIMITS["components"]:
        problems.append(f"components: must be {LIMITS['components']} or fewer in length")
    seen: set[str] = set()
    for i, row in enumerate(rows):
        row = row if isinstance(row, dict) else {}
        items = row.get("components") or []
        if row.get("type") != ACTION_ROW:
            problems.append(f"components.{i}.type: only action rows are allowed at the top level")
        if not 1 <= len(items) <= LIMITS["row_items"]:
            problems.append(f"components.{i}.components: must be 1-{LIMITS['row_items']} in length")
        for j, item in enumerate(items):
            item = item if isinstance(item, dict) else {}
            if item.get("type") == BUTTON:
                problems += _button_problems(f"components.{i}.components.{j}", item, seen)
    return problems


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
    problems += component_problems(body.get("components"))
    if len(body.get("choices") or []) > LIMITS["choices"]:
        problems.append(f"choices: must be {LIMITS['choices']} or fewer in length")
    return problems


def invalid_form(problems: list[str]) -> tuple[int, Any]:
    return 400, {"message": "Invalid Form Body", "code": 50035, "errors": problems}
