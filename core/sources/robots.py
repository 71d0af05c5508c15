"""Robot-format ingest: the message bodies of Feishu (Lark), DingTalk and WeCom custom group robots.

A tool that can only post to such a robot posts to `/hooks/feishu-robot/<key>`, `/hooks/dingtalk-robot/<key>` or
`/hooks/wecom-robot/<key>` instead (docs/sources_part_c.md). Dutybot authenticates the request by the integration
key in the URL, so the robots' own signatures are not checked: Feishu's `timestamp` and `sign` body fields (and
DingTalk's `timestamp`/`sign` query parameters, which never reach a parser) are ignored. The answer is the
robot's own success body with 200, as tools check it.

Every message is one alert event (`source` `feishu-robot`, `dingtalk-robot`, `wecom-robot`):

- title line: the message's own title (Feishu post title or card header, DingTalk markdown/link/actionCard
  title, WeCom template_card main title), else the first line of its (kept) text, with Markdown (leading `#`,
  `>`, list marks; `**`, `__`, `~~`, backticks; links → their text; images), HTML tags, Markdown escapes and
  @mentions (the first MAX_MENTIONS) removed. The first such line with more than punctuation is the title line.
- status markers, read in the title line only (robots know no recovery). A marker is a word of MARKERS (any
  case; emoji and a `:<count>` ignored) either as a whole token in square brackets (`[ ]`, `【 】`, `「 」`,
  `〔 〕`) anywhere in the line (`[RESOLVED]`, `【恢复】`, `[FIRING:2]`, `[✅ Up]`), or as the line's first word
  followed by whitespace, `:`, `：`, `|`, `,` or the end: `RESOLVED disk full`, `告警恢复：磁盘满`. A weak marker
  (WEAK_MARKERS: ok, up, down, problem, alert, ...) counts bare only before a colon (`OK: disk full`), and so
  does Zabbix's `Resolved in 5m 3s:`. The first marker decides: resolved for RESOLVED_MARKERS, else firing; no
  marker is firing. Markers are removed from the title; a line of markers only gives its status and the next
  line is the title line.
- key: `robot:` + a hash of the title without markers, symbols (emoji), surrounding separators, in folded case
  with whitespace collapsed, so "[FIRING:1] disk full on db-1" and "✅ [RESOLVED] Disk full on db-1" match.
- severity: the first severity word (fields.SEVERITY_WORDS and SEVERITY_WORDS_HERE) as a bracketed token of the
  title or its first word before a colon (`[P1] ...`, `【严重】...`, `CRITICAL: ...`); else the value of the first
  `key: value` (or `key = value`) line of the text whose key is in SEVERITY_KEYS (`级别: 严重`, `severity =
  critical`; a key alone on its line takes the next line), the value read whole or by its first word; else warning.
- annotations: `description` (the message text, cut to MAX_DESCRIPTION_BYTES of UTF-8 with `truncated: true`),
  `image`, `image.2`, ... (picture URLs), and per format: `at` (DingTalk), `image_key`, `share_chat_id`,
  `template_id` (Feishu), `card_type`, `image_md5`, `media_id` (WeCom).
- labels: `robot` (feishu, dingtalk, wecom) and `msgtype`. Links: the http(s) URLs of the message's link fields,
  then the targets of Markdown links `[text](url)` in its text, in order, once each, at most MAX_LINKS (Markdown
  images `![](url)` join the picture URLs, kept the same way).
- starts at the time received; a resolved event ends then.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from core.model import AlertEvent, AlertStatus, Severity
from core.sources import Parsed, PayloadError
from core.sources.fields import (
    SEVERITY_WORDS,
    check_text,
    fingerprint_of,
    is_http_url,
    loose_map,
    optional_text,
    required_text,
    scalar_text,
    severity_word,
    title_text,
    utf8_prefix,
)

MAX_DESCRIPTION_BYTES = 32 * 1024
MAX_TITLE_LINE = 4000  # characters of a line read for the title: enough for MAX_TITLE_LENGTH, bounded work
MAX_LINKS = 20  # links, and picture URLs, kept per message
MAX_MENTIONS = 50  # @mentions removed from the title and kept as DingTalk's `at`

RESOLVED, FIRING = AlertStatus.RESOLVED, AlertStatus.FIRING
RESOLVED_MARKERS = frozenset({"resolved", "recovered", "recovery", "ok", "up", "恢复", "已恢复", "告警恢复",
                              "恢复告警", "已解决", "解决", "正常"})
FIRING_MARKERS = frozenset({"firing", "alerting", "problem", "alert", "alarm", "triggered", "down", "告警", "报警",
                            "告警中", "触发"})
# markers that are ordinary words too: bare only before a colon, anywhere when bracketed
WEAK_MARKERS = frozenset({"ok", "up", "recovery", "解决", "正常", "problem", "alert", "alarm", "triggered", "down"})
MARKERS = {word: RESOLVED for word in RESOLVED_MARKERS} | {word: FIRING for word in FIRING_MARKERS}

# severity words the robots' Chinese and English templates use, on top of fields.SEVERITY_WORDS
SEVERITY_WORDS_HERE = {
    "p0": Severity.CRITICAL, "sev1": Severity.CRITICAL, "major": Severity.CRITICAL, "严重": Severity.CRITICAL,
    "紧急": Severity.CRITICAL, "致命": Severity.CRITICAL, "灾难": Severity.CRITICAL, "重要": Severity.CRITICAL,
    "高": Severity.CRITICAL, "一级": Severity.CRITICAL,
    "sev2": Severity.WARNING, "minor": Severity.WARNING, "警告": Severity.WARNING, "一般": Severity.WARNING,
    "一般严重": Severity.WARNING, "次要": Severity.WARNING, "中": Severity.WARNING, "二级": Severity.WARNING,
    "sev3": Severity.INFO, "提示": Severity.INFO, "信息": Severity.INFO, "通知": Severity.INFO,
    "提醒": Severity.INFO, "低": Severity.INFO, "三级": Severity.INFO, "未分类": Severity.INFO,
}
SEVERITY_KEYS = frozenset({"severity", "level", "priority", "alert level", "级别", "告警级别", "报警级别", "等级",
                           "告警等级", "严重程度", "严重性", "优先级", "事件级别"})

_SEPARATORS = " \t:：-—|｜,，"
_OPENING = "[【「〔"
_BRACKETED = re.compile(r"[\[【「〔]([^\[\]【】「」〔〕\n]{1,32})[\]】」〕]")
_COUNT = re.compile(r"\s*[:：]\s*\d+\s*$")
_BARE = re.compile(r"([^\W\d_]+)((?:\s+in(?:\s+\d+\s*[^\W\d_]+)+)?)(\s*[:：]|(?=[\s|｜,，])|$)")
_LEADING_WORD = re.compile(r"(\w+)\s*[:：]")
_KEY_VALUE = re.compile(r"([^:：=]{1,24}?)\s*[:：=]\s*(.*)")
_VALUE_WORDS = re.compile(r"[\s,，;；/|()（）\[\]【】\-]+")
_FEISHU_AT = re.compile(r"<at\b[^<>]*>[^<]*</at>", re.IGNORECASE)
_TAGS = re.compile(r"<@[^<>]*>|</?[A-Za-z][^<>]*>")
_MD_IMAGE = re.compile(r"!\[[^\[\]]*\]\([^()]*\)")
_MD_TARGET = re.compile(r"(!?)\[[^\[\]\n]*\]\(\s*(https?://[^\s()]+)")
_MD_LINK = re.compile(r"\[([^\[\]]*)\]\([^()]*\)")
_LINE_LEAD = re.compile(r"^(?:\s*(?:#{1,6}(?=\s)|>|[-*+](?=\s)|\d{1,3}[.)](?=\s)))+")
_EMPHASIS = re.compile(r"\*\*|__|~~|`")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")


@dataclass(frozen=True)
class Message:
    """What one robot message says, before it becomes an alert event."""

    msgtype: str
    text: str = ""
    title: str | None = None
    links: tuple[str | None, ...] = ()
    images: tuple[str | None, ...] = ()
    mentions: tuple[str, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)
    placeholder: str = "(no title)"  # the title when no line of the message is one


Reader = Callable[[Mapping[str, Any]], Message]


def parse_feishu(payload: Any, received_at: datetime) -> Parsed:
    """The `feishu-robot` source: a Feishu/Lark custom bot body (`timestamp` and `sign` are ignored)."""
    message = _read(payload, "msg_type", FEISHU_READERS)
    return Parsed((_event("feishu", message, received_at),), reply={"code": 0, "msg": "success", "data": {}},
                  status=200)


def parse_dingtalk(payload: Any, received_at: datetime) -> Parsed:
    """The `dingtalk-robot` source: a DingTalk custom robot body."""
    message = _read(payload, "msgtype", DINGTALK_READERS)
    return Parsed((_event("dingtalk", message, received_at),), reply={"errcode": 0, "errmsg": "ok"}, status=200)


def parse_wecom(payload: Any, received_at: datetime) -> Parsed:
    """The `wecom-robot` source: a WeCom group robot body."""
    message = _read(payload, "msgtype", WECOM_READERS)
    return Parsed((_event("wecom", message, received_at),), reply={"errcode": 0, "errmsg": "ok"}, status=200)


def _read(payload: Any, type_field: str, readers: Mapping[str, Reader]) -> Message:
    if not isinstance(payload, Mapping):
        raise PayloadError("", "body must be a JSON object")
    supported = f"one of {', '.join(readers)}"
    msgtype = payload.get(type_field)
    if msgtype is None:
        raise PayloadError(type_field, f"is required: {supported}")
    if not isinstance(msgtype, str):
        raise PayloadError(type_field, f"must be a string: {supported}")
    reader = readers.get(check_text(msgtype, type_field))
    if reader is None:
        raise PayloadError(type_field, f"{msgtype[:40]!r} is not supported: {supported}")
    return reader(payload)


# --- the event every format makes -----------------------------------------------------------------------------


def _event(robot: str, message: Message, received_at: datetime) -> AlertEvent:
    description = message.text
    annotations = dict(message.annotations)
    if len(description.encode("utf-8")) > MAX_DESCRIPTION_BYTES:
        description = utf8_prefix(description, MAX_DESCRIPTION_BYTES)
        annotations["truncated"] = "true"
    status, title = _headline(message, description)
    if description.strip():
        annotations["description"] = description
    targets = _MD_TARGET.findall(description)
    for index, url in enumerate(_http_urls((*message.images, *(url for bang, url in targets if bang)))):
        annotations["image" if index == 0 else f"image.{index + 1}"] = url
    resolved = status is RESOLVED
    return AlertEvent(
        source=f"{robot}-robot",
        fingerprint="robot:" + fingerprint_of({"title": _key_text(title)}),
        status=status,
        severity=_severity(title, description),
        title=title_text(title),
        labels={"robot": robot, "msgtype": message.msgtype},
        annotations=annotations,
        starts_at=received_at,
        ends_at=received_at if resolved else None,
        links=_http_urls((*message.links, *(url for bang, url in targets if not bang))),
    )


def _headline(message: Message, description: str) -> tuple[AlertStatus, str]:
    """The status the title line's markers give, and the title line without them (read in the kept text)."""
    status: AlertStatus | None = None
    for candidate in ((message.title or "")[:MAX_DESCRIPTION_BYTES], description):
        for line in candidate.splitlines():
            found, rest = _strip_markers(_clean_line(line[:MAX_TITLE_LINE], message.mentions[:MAX_MENTIONS]))
            status = status or found
            if any(not char.isspace() and not unicodedata.category(char).startswith("P") for char in rest):
                return status or FIRING, rest
    return status or FIRING, message.placeholder


def _clean_line(line: str, mentions: Iterable[str]) -> str:
    """One line of Markdown/HTML as plain text without @mentions, whitespace collapsed."""
    line = _TAGS.sub("", _FEISHU_AT.sub("", line))
    line = _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", line))
    line = _ESCAPED.sub(r"\1", _EMPHASIS.sub("", _LINE_LEAD.sub("", line, count=1)))
    for who in mentions:
        if who:
            line = line.replace("@" + who, "")
    return " ".join(line.split())


def _strip_markers(line: str) -> tuple[AlertStatus | None, str]:
    """(status of the first marker, the line without markers): leading markers, then bracketed ones anywhere."""
    found: list[AlertStatus] = []
    start = 0
    while True:
        position = start
        while position < len(line) and not line[position].isalnum() and line[position] not in _OPENING:
            position += 1
        bracketed = _BRACKETED.match(line, position)
        bare = _BARE.match(line, position)
        if bracketed and (status := MARKERS.get(_word(bracketed.group(1)))):
            found.append(status)
            start = bracketed.end()
        elif bare and (status := _bare_marker(bare)):
            found.append(status)
            start = bare.end()
        else:
            break
    rest = line[start:] if found else line

    def drop(match: re.Match[str]) -> str:
        status = MARKERS.get(_word(match.group(1)))
        if status is None:
            return match.group(0)
        found.append(status)
        return " "

    rest = " ".join(_BRACKETED.sub(drop, rest).split()).strip(_SEPARATORS)
    return (found[0] if found else None), rest


def _bare_marker(match: re.Match[str]) -> AlertStatus | None:
    word, duration, colon = match.group(1).casefold(), match.group(2), match.group(3).strip()
    if (word in WEAK_MARKERS or duration) and not colon:
        return None
    return MARKERS.get(word)


def _word(text: str) -> str:
    """A bracketed token as a marker or severity word: no count, no symbols, folded case."""
    return " ".join(_without_symbols(_COUNT.sub("", text)).split()).casefold()


def _key_text(title: str) -> str:
    """The title as the key hashes it: no symbols, folded case, whitespace collapsed."""
    return " ".join(_without_symbols(title).split()).strip(_SEPARATORS).casefold()


def _without_symbols(text: str) -> str:
    """`text` without symbol characters (emoji, ✅, ©) and the selectors and joiners that build emoji."""
    return "".join(char for char in text
                   if not unicodedata.category(char).startswith("S") and char not in "\ufe0e\ufe0f\u200d")


def _severity(title: str, text: str) -> Severity:
    leading = _LEADING_WORD.match(title)  # when there is one, it comes before any bracketed token
    words = [leading.group(1).casefold()] if leading else []
    words += [_word(match.group(1)) for match in _BRACKETED.finditer(title)]
    for word in words:
        if (severity := _severity_of(word)) is not None:
            return severity
    pending_key = False
    for line in text.splitlines():
        clean = _clean_line(line[:MAX_TITLE_LINE], ())
        if not clean:
            continue
        if pending_key:
            return _value_severity(clean) or Severity.WARNING
        pair = _KEY_VALUE.fullmatch(clean)
        if pair and pair.group(1).strip().casefold() in SEVERITY_KEYS:
            if not pair.group(2).strip():
                pending_key = True
                continue
            return _value_severity(pair.group(2)) or Severity.WARNING
    return Severity.WARNING


def _value_severity(value: str) -> Severity | None:
    value = value.strip(" .。!！").casefold()
    first = next((word for word in _VALUE_WORDS.split(value) if word), "")
    return _severity_of(value) or _severity_of(first)


def _severity_of(word: str) -> Severity | None:
    if word in SEVERITY_WORDS_HERE:
        return SEVERITY_WORDS_HERE[word]
    return severity_word(word) if word in SEVERITY_WORDS else None


def _http_urls(urls: Iterable[str | None]) -> tuple[str, ...]:
    """The first MAX_LINKS http(s) URLs among `urls`, each once, in order (chat cards and pages show no other)."""
    kept: dict[str, None] = {}
    for url in urls:
        url = (url or "").strip()
        if is_http_url(url):
            kept[url] = None
            if len(kept) == MAX_LINKS:
                break
    return tuple(kept)


# --- field readers ---------------------------------------------------------------------------------------------


def _object(container: Mapping[str, Any], name: str, path: str, required: bool = True) -> Mapping[str, Any]:
    where = f"{path}.{name}" if path else name
    value = container.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError(where, "must be an object" if value is not None else "is required (an object)")
    return value


def _list(container: Mapping[str, Any], name: str, path: str, required: bool = False) -> list[Any]:
    where = f"{path}.{name}" if path else name
    value = container.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise PayloadError(where, "must be a list" if value is not None else "is required (a list)")
    return value


def _objects(container: Mapping[str, Any], name: str, path: str, required: bool = False) -> list[tuple[Any, str]]:
    """The items of a list of objects, with their paths."""
    where = f"{path}.{name}" if path else name
    items = _list(container, name, path, required)
    if required and not items:
        raise PayloadError(where, "must not be empty")
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise PayloadError(f"{where}[{index}]", "must be an object")
    return [(item, f"{where}[{index}]") for index, item in enumerate(items)]


def _lines(*parts: str | None) -> str:
    return "\n".join(part for part in parts if part)


def _language(localized: Mapping[str, Any], path: str) -> tuple[str, Any]:
    """The zh_cn, else en_us, else first entry of a per-language object (Feishu post content, i18n)."""
    for language in ("zh_cn", "en_us", *localized):
        if language in localized:
            check_text(language, path)
            return language, localized[language]
    raise PayloadError(path, "needs a language entry (zh_cn, en_us, ...)")


# --- Feishu / Lark custom bot ----------------------------------------------------------------------------------

_CARD_TEXT_TAGS = frozenset({"plain_text", "lark_md", "markdown"})
# interactive parts: their labels are not the message; their URLs still are links
_CARD_WIDGETS = frozenset({"button", "input", "select_static", "multi_select_static", "select_person",
                           "multi_select_person", "overflow", "date_picker", "picker_time", "picker_datetime",
                           "select_img", "img", "image", "img_combination"})


def _feishu_text(body: Mapping[str, Any]) -> Message:
    return Message("text", text=required_text(_object(body, "content", ""), "text", "content"))


def _feishu_post(body: Mapping[str, Any]) -> Message:
    language, article = _language(_object(_object(body, "content", ""), "post", "content"), "content.post")
    path = f"content.post.{language}"
    if not isinstance(article, Mapping):
        raise PayloadError(path, "must be an object")
    lines, links, mentions = [], [], []
    for row, paragraph in enumerate(_list(article, "content", path, required=True)):
        if not isinstance(paragraph, list):
            raise PayloadError(f"{path}.content[{row}]", "must be a list of elements")
        parts = []
        for column, element in enumerate(paragraph):
            where = f"{path}.content[{row}][{column}]"
            if not isinstance(element, Mapping):
                raise PayloadError(where, "must be an object")
            tag = optional_text(element, "tag", where)
            if tag in ("text", "a", "md", "code_block"):
                parts.append(optional_text(element, "text", where) or "")
            if tag == "a":
                links.append(optional_text(element, "href", where))
            if tag == "at":
                who = optional_text(element, "user_name", where) or optional_text(element, "user_id", where)
                parts.append(f"@{who}" if who else "")
                mentions.append(who or "")
        lines.append("".join(parts))
    return Message("post", text="\n".join(lines).rstrip(), title=optional_text(article, "title", path),
                   links=tuple(links), mentions=tuple(mentions))


def _feishu_card(body: Mapping[str, Any]) -> Message:
    card = _object(body, "card", "")
    if card.get("type") == "template":
        data = _object(card, "data", "card")
        variables = loose_map(data.get("template_variable") or {}, "card.data.template_variable")
        template = optional_text(data, "template_id", "card.data")
        return Message("interactive", text="\n".join(f"{name}: {value}" for name, value in variables.items()),
                       annotations={"template_id": template} if template else {}, placeholder="(card)")
    header = _object(card, "header", "card", required=False)
    title = _card_text(header, "title", "card.header")
    subtitle = _card_text(header, "subtitle", "card.header")
    if "body" in card:
        root: Any = _list(_object(card, "body", "card"), "elements", "card.body")
        root_path = "card.body.elements"
    elif "i18n_elements" in card:
        language, root = _language(_object(card, "i18n_elements", "card"), "card.i18n_elements")
        root_path = f"card.i18n_elements.{language}"
    else:
        root, root_path = _list(card, "elements", "card"), "card.elements"
    texts, links = _walk_card(root, root_path)
    card_link = optional_text(_object(card, "card_link", "card", required=False), "url", "card.card_link")
    return Message("interactive", text=_lines(subtitle, *texts), title=title, links=(*links, card_link),
                   placeholder="(card)")


def _card_text(header: Mapping[str, Any], name: str, path: str) -> str | None:
    """A card header's plain_text title or subtitle: its content, else its i18n text."""
    where = f"{path}.{name}"
    text = _object(header, name, path, required=False)
    content = optional_text(text, "content", where)
    if content or "i18n" not in text:
        return content
    language, _ = _language(_object(text, "i18n", where), f"{where}.i18n")
    return optional_text(text["i18n"], language, f"{where}.i18n")


def _walk_card(root: Any, path: str) -> tuple[list[str], list[str | None]]:
    """The text components' content and every url of a card's elements, in document order (no recursion)."""
    texts: list[str] = []
    links: list[str | None] = []
    stack: list[tuple[Any, str, bool]] = [(root, path, True)]
    while stack:
        node, where, wanted = stack.pop()
        if isinstance(node, list):
            stack.extend((item, f"{where}[{index}]", wanted) for index, item in reversed(list(enumerate(node))))
            continue
        if not isinstance(node, Mapping):
            continue
        tag = node.get("tag") if isinstance(node.get("tag"), str) else None
        if wanted and tag in _CARD_TEXT_TAGS and "content" in node:
            texts.append(optional_text(node, "content", where) or "")
        # any component may carry a jump URL (button url, multi_url, open_url behaviours, markdown href)
        links.extend(check_text(node[name], where) for name in ("url", "default_url")
                     if isinstance(node.get(name), str))
        wanted = wanted and tag not in _CARD_WIDGETS
        children = [(value, f"{where}.{check_text(name, where)}", wanted) for name, value in node.items()
                    if isinstance(value, (Mapping, list))]
        stack.extend(reversed(children))
    return [text for text in texts if text.strip()], links


def _feishu_image(body: Mapping[str, Any]) -> Message:
    image_key = required_text(_object(body, "content", ""), "image_key", "content")
    return Message("image", annotations={"image_key": image_key}, placeholder="(image)")


def _feishu_share_chat(body: Mapping[str, Any]) -> Message:
    chat = required_text(_object(body, "content", ""), "share_chat_id", "content")
    return Message("share_chat", annotations={"share_chat_id": chat}, placeholder="(shared chat)")


FEISHU_READERS: dict[str, Reader] = {"text": _feishu_text, "post": _feishu_post, "interactive": _feishu_card,
                                     "image": _feishu_image, "share_chat": _feishu_share_chat}


# --- DingTalk custom robot -------------------------------------------------------------------------------------


def _dingtalk(msgtype: str, read: Callable[[Mapping[str, Any], str], Message]) -> Reader:
    """A reader of one DingTalk type: its object, plus `at` (kept as annotation `at`, dropped from the title)."""

    def reader(body: Mapping[str, Any]) -> Message:
        message = read(_object(body, msgtype, ""), msgtype)
        mentioned = _dingtalk_at(_object(body, "at", "", required=False))[:MAX_MENTIONS]
        if not mentioned:
            return message
        annotations = {**message.annotations, "at": ", ".join(mentioned)}
        return replace(message, mentions=tuple(mentioned), annotations=annotations)

    return reader


def _dingtalk_at(at: Mapping[str, Any]) -> list[str]:
    mentioned = []
    for name in ("atMobiles", "atUserIds"):
        for index, who in enumerate(_list(at, name, "at")):
            if isinstance(who, bool) or not isinstance(who, (str, int)):
                raise PayloadError(f"at.{name}[{index}]", "must be a string")
            mentioned.append(check_text(scalar_text(who), f"at.{name}[{index}]"))
    all_members = at.get("isAtAll")
    if all_members is not None and not isinstance(all_members, bool):
        raise PayloadError("at.isAtAll", "must be true or false")
    return mentioned + (["@all"] if all_members else [])


def _dingtalk_text(text: Mapping[str, Any], path: str) -> Message:
    return Message("text", text=required_text(text, "content", path))


def _dingtalk_markdown(markdown: Mapping[str, Any], path: str) -> Message:
    return Message("markdown", text=required_text(markdown, "text", path), title=optional_text(markdown, "title", path))


def _dingtalk_link(link: Mapping[str, Any], path: str) -> Message:
    return Message("link", text=optional_text(link, "text", path) or "", title=required_text(link, "title", path),
                   links=(optional_text(link, "messageUrl", path),), images=(optional_text(link, "picUrl", path),))


def _dingtalk_action_card(card: Mapping[str, Any], path: str) -> Message:
    links = [optional_text(card, "singleURL", path)]
    links += [optional_text(button, "actionURL", where) for button, where in _objects(card, "btns", path)]
    return Message("actionCard", text=required_text(card, "text", path), title=optional_text(card, "title", path),
                   links=tuple(links))


def _dingtalk_feed_card(feed: Mapping[str, Any], path: str) -> Message:
    entries = _objects(feed, "links", path, required=True)
    return Message("feedCard", text="\n".join(required_text(entry, "title", where) for entry, where in entries),
                   links=tuple(optional_text(entry, "messageURL", where) for entry, where in entries),
                   images=tuple(optional_text(entry, "picURL", where) for entry, where in entries))


DINGTALK_READERS: dict[str, Reader] = {
    "text": _dingtalk("text", _dingtalk_text), "markdown": _dingtalk("markdown", _dingtalk_markdown),
    "link": _dingtalk("link", _dingtalk_link), "actionCard": _dingtalk("actionCard", _dingtalk_action_card),
    "feedCard": _dingtalk("feedCard", _dingtalk_feed_card),
}


# --- WeCom group robot ---------------------------------------------------------------------------------------


def _wecom_content(msgtype: str) -> Reader:
    """text, markdown, markdown_v2: `<msgtype>.content` (mentioned_list and mentioned_mobile_list ignored)."""
    return lambda body: Message(msgtype, text=required_text(_object(body, msgtype, ""), "content", msgtype))


def _wecom_news(body: Mapping[str, Any]) -> Message:
    articles = _objects(_object(body, "news", ""), "articles", "news", required=True)
    text = "\n".join(_lines(required_text(article, "title", where), optional_text(article, "description", where))
                     for article, where in articles)
    return Message("news", text=text, links=tuple(optional_text(article, "url", where) for article, where in articles),
                   images=tuple(optional_text(article, "picurl", where) for article, where in articles))


def _wecom_template_card(body: Mapping[str, Any]) -> Message:
    card, path = _object(body, "template_card", ""), "template_card"

    def part(name: str) -> tuple[Mapping[str, Any], str]:
        return _object(card, name, path, required=False), f"{path}.{name}"

    (main, main_path), (emphasis, emphasis_path) = part("main_title"), part("emphasis_content")
    (quote, quote_path), (area, area_path) = part("quote_area"), part("image_text_area")
    figure, meaning = optional_text(emphasis, "title", emphasis_path), optional_text(emphasis, "desc", emphasis_path)
    lines = [optional_text(main, "desc", main_path),
             f"{meaning}: {figure}" if figure and meaning else figure or meaning,
             optional_text(card, "sub_title_text", path),
             optional_text(quote, "title", quote_path), optional_text(quote, "quote_text", quote_path),
             optional_text(area, "title", area_path), optional_text(area, "desc", area_path)]
    for item, where in _objects(card, "vertical_content_list", path):
        lines += [optional_text(item, "title", where), optional_text(item, "desc", where)]
    links = [optional_text(part("card_action")[0], "url", f"{path}.card_action"),
             optional_text(area, "url", area_path), optional_text(quote, "url", quote_path)]
    for item, where in _objects(card, "horizontal_content_list", path):
        name, value = optional_text(item, "keyname", where), optional_text(item, "value", where)
        lines.append(f"{name}: {value}" if name and value else name or value)
        links.append(optional_text(item, "url", where))
    links += [optional_text(item, "url", where) for item, where in _objects(card, "jump_list", path)]
    card_type = optional_text(card, "card_type", path)
    return Message("template_card", text=_lines(*lines), title=optional_text(main, "title", main_path),
                   links=tuple(links), placeholder="(card)",
                   images=(optional_text(part("card_image")[0], "url", f"{path}.card_image"),
                           optional_text(area, "image_url", area_path)),
                   annotations={"card_type": card_type} if card_type else {})


def _wecom_image(body: Mapping[str, Any]) -> Message:
    image = _object(body, "image", "")
    optional_text(image, "base64", "image")  # the picture itself is not kept
    md5 = optional_text(image, "md5", "image")
    return Message("image", annotations={"image_md5": md5} if md5 else {}, placeholder="(image)")


def _wecom_media(msgtype: str) -> Reader:
    """file and voice: `<msgtype>.media_id` of an upload to the robot."""

    def reader(body: Mapping[str, Any]) -> Message:
        media_id = required_text(_object(body, msgtype, ""), "media_id", msgtype)
        return Message(msgtype, annotations={"media_id": media_id}, placeholder=f"({msgtype})")

    return reader


WECOM_READERS: dict[str, Reader] = {
    "text": _wecom_content("text"), "markdown": _wecom_content("markdown"),
    "markdown_v2": _wecom_content("markdown_v2"), "news": _wecom_news, "template_card": _wecom_template_card,
    "image": _wecom_image, "file": _wecom_media("file"), "voice": _wecom_media("voice"),
}
