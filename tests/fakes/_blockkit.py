"""Block Kit validation used by the fake Slack server (limits from platforms.md §1.2).

Violations are reported like Slack does: ``[ERROR] <problem> [json-pointer:<path>]``.
"""

from __future__ import annotations

from typing import Any

KNOWN_BLOCK_TYPES = frozenset({"section", "actions", "context", "header", "divider", "input", "image"})
MENU_OPTION_LIMITS = {"static_select": 100, "overflow": 5}  # most options each menu element may hold


class _BlockChecker:
    """Collects Block Kit violations as Slack-style ``[ERROR] … [json-pointer:…]`` strings."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.action_ids: set[str] = set()

    def err(self, path: str, msg: str) -> None:
        self.errors.append(f"[ERROR] {msg} [json-pointer:{path}]")

    def check(self, blocks: Any, path: str, max_blocks: int) -> list[str]:
        if not isinstance(blocks, list):
            self.err(path, "must be an array")
            return self.errors
        if len(blocks) > max_blocks:
            self.err(path, f"no more than {max_blocks} items allowed")
        for i, block in enumerate(blocks):
            self._block(block, f"{path}/{i}")
        return self.errors

    def _str(self, value: Any, path: str, limit: int, required: bool = False) -> None:
        if value is None and not required:
            return
        if not isinstance(value, str) or not value:
            self.err(path, "must be a non-empty string")
        elif len(value) > limit:
            self.err(path, f"must be less than {limit + 1} characters")

    def _text(self, obj: Any, path: str, limit: int, plain: bool = False) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
            self.err(path, "must be a text object")
            return
        if plain and obj["type"] != "plain_text":
            self.err(f"{path}/type", "must be plain_text")
        self._str(obj.get("text"), f"{path}/text", limit, required=True)

    def _list(self, value: Any, path: str, limit: int) -> list[Any]:
        if not isinstance(value, list) or not value:
            self.err(path, "must be a non-empty array")
            return []
        if len(value) > limit:
            self.err(path, f"no more than {limit} items allowed")
        return value

    def _element(self, el: Any, path: str) -> None:
        if not isinstance(el, dict) or not isinstance(el.get("type"), str):
            self.err(path, "must be an element object")
            return
        action_id = el.get("action_id")
        self._str(action_id, f"{path}/action_id", 255)
        if isinstance(action_id, str):
            if action_id in self.action_ids:
                self.err(f"{path}/action_id", f"duplicate action_id {action_id!r}")
            self.action_ids.add(action_id)
        if el["type"] == "button":
            self._text(el.get("text"), f"{path}/text", 75, plain=True)
            self._str(el.get("value"), f"{path}/value", 2000)
            self._str(el.get("url"), f"{path}/url", 3000)
        elif el["type"] in MENU_OPTION_LIMITS:
            if "placeholder" in el:
                self._text(el["placeholder"], f"{path}/placeholder", 150, plain=True)
            if el["type"] == "overflow" or "option_groups" not in el:
                for i, option in enumerate(self._list(el.get("options"), f"{path}/options",
                                                      MENU_OPTION_LIMITS[el["type"]])):
                    self._option(option, f"{path}/options/{i}")
            if "initial_option" in el and el["initial_option"] not in (el.get("options") or []):
                self.err(f"{path}/initial_option", "must be one of the options")
        elif el["type"] == "plain_text_input":
            limit = el.get("max_length", 3000)
            if not isinstance(limit, int) or not 1 <= limit <= 3000:
                self.err(f"{path}/max_length", "must be an integer from 1 to 3000")
            elif "initial_value" in el:
                self._str(el["initial_value"], f"{path}/initial_value", limit, required=True)
        elif el["type"] == "number_input":
            if not isinstance(el.get("is_decimal_allowed"), bool):
                self.err(f"{path}/is_decimal_allowed", "is a required boolean")
            for bound in ("min_value", "max_value", "initial_value"):
                if bound in el:
                    self._str(el[bound], f"{path}/{bound}", 10, required=True)

    def _option(self, option: Any, path: str) -> None:
        """An option object: plain_text text of at most 75 characters, a value of at most 150."""
        if not isinstance(option, dict):
            self.err(path, "must be an option object")
            return
        self._text(option.get("text"), f"{path}/text", 75, plain=True)
        self._str(option.get("value"), f"{path}/value", 150, required=True)

    def _block(self, block: Any, path: str) -> None:
        if not isinstance(block, dict) or block.get("type") not in KNOWN_BLOCK_TYPES:
            kind = block.get("type") if isinstance(block, dict) else None
            self.err(f"{path}/type", f"unknown block type {kind!r}")
            return
        self._str(block.get("block_id"), f"{path}/block_id", 255)
        kind = block["type"]
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.err(path, "must have text or fields")
            if "text" in block:
                self._text(block["text"], f"{path}/text", 3000)
            if "fields" in block:
                for i, field in enumerate(self._list(block["fields"], f"{path}/fields", 10)):
                    self._text(field, f"{path}/fields/{i}", 2000)
            if "accessory" in block:
                self._element(block["accessory"], f"{path}/accessory")
        elif kind == "header":
            self._text(block.get("text"), f"{path}/text", 150, plain=True)
        elif kind == "actions":
            for i, el in enumerate(self._list(block.get("elements"), f"{path}/elements", 25)):
                self._element(el, f"{path}/elements/{i}")
        elif kind == "context":
            for i, el in enumerate(self._list(block.get("elements"), f"{path}/elements", 10)):
                if not isinstance(el, dict) or el.get("type") not in ("plain_text", "mrkdwn", "image"):
                    self.err(f"{path}/elements/{i}", "must be a text or image element")
        elif kind == "input":
            self._text(block.get("label"), f"{path}/label", 2000, plain=True)
            self._element(block.get("element"), f"{path}/element")
        elif kind == "image":
            self._str(block.get("image_url"), f"{path}/image_url", 3000, required=True)
            self._str(block.get("alt_text"), f"{path}/alt_text", 2000, required=True)


def validate_blocks(blocks: Any, max_blocks: int = 50, path: str = "/blocks") -> list[str]:
    """Return the Block Kit violations in ``blocks`` (empty list when valid)."""
    return _BlockChecker().check(blocks, path, max_blocks)


def validate_view_header(view: Any) -> list[str]:
    """Problems with a ``views.open`` view's own fields (a modal with a 1-24 char plain_text title)."""
    if not isinstance(view, dict):
        return ["[ERROR] must be an object [json-pointer:/view]"]
    errors = [] if view.get("type") == "modal" else ["[ERROR] must be 'modal' [json-pointer:/view/type]"]
    title = view.get("title")
    if (
        not isinstance(title, dict)
        or title.get("type") != "plain_text"
        or not isinstance(title.get("text"), str)
    ):
        errors.append("[ERROR] must be a plain_text object [json-pointer:/view/title]")
    elif not 1 <= len(title["text"]) <= 24:
        errors.append("[ERROR] must be 1-24 characters [json-pointer:/view/title/text]")
    return errors
