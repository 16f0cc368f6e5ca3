"""What WhatsApp writes in each UI language: date headers, system lines, markers, file names.

The date header's layout (order, separators, 12 or 24 hours, brackets) follows the phone's
locale; `Layout` describes one and builds the regexes for it. WhatsApp also writes its own
notices in the phone's language, and nothing in the file says which. The tables below are data:
to support a language, add rows (see docs/whatsapp-system-messages.md). Each `SYSTEM_LINES` row
is `(language, event, regex)`; the regex is matched against the whole system line (its text
after the date header, invisible marks kept) and uses these named groups:
- `member`: who joined, left or was removed; for `added` it may list several names
  ("Ann, Bo and Cy"), split with the language's `LIST_SEPARATORS`;
- `actor`: who added or removed them;
- `subject`: the group name, for `created` and `subject` rows (used to name the chat).

A group that matches one of the language's `YOU_WORDS`, or that matches the empty string (for
languages that say "you" only through the verb, e.g. Spanish "Añadiste a X"), is the exporting
user, recorded as the account "You". Rows are tried in order, first match wins: put the more
specific row first. Rows marked "unsure" are our best knowledge of the wording and want checking
against a real export in that language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from shequn.model.records import JoinSource, MembershipAction, MessageKind

Event = Literal["created", "added", "joined_link", "joined_community", "left", "removed", "subject"]

# Any header WhatsApp is known to write; used on the head only, to learn the file's layout.
# ASCII digits only, as in every export we know of, and as the bytes splitter expects.
GENERIC_HEADER = re.compile(
    r"(?P<lead>[\u200e\u200f]*)(?P<open>\[?)"
    r"(?P<d1>[0-9]{1,4})(?P<sep>[./-] ?)(?P<d2>[0-9]{1,2})(?P=sep)(?P<d3>[0-9]{1,4})(?P<dend>\.?)"
    r"(?P<mid>,? (?:[^0-9\s\[\]]{1,5} )?|\.? )"
    r"(?P<ap0>上午|下午|午前|午後|오전|오후)?"
    r"(?P<h>[0-9]{1,2})(?P<tsep>[:.])(?P<mi>[0-9]{2})(?:(?P=tsep)(?P<s>[0-9]{2}))?"
    r"(?P<ap>[ \u00a0\u202f]?[AaPp]\.?[ \u00a0\u202f]?[Mm]\.?)?"
    r"(?P<end>\] | ?[-–] |: | )"
)
PM_WORDS = frozenset({"P", "p", "下午", "午後", "오후"})
AP_WORDS = frozenset({"上午", "下午", "午前", "午後", "오전", "오후"})  # before the time


@dataclass(frozen=True, slots=True)
class Layout:
    """One header layout, learned from the first header of a file.

    A header is cut in two parts: the date part (from the newline before it to the end of the
    date) and the time part (the rest up to the sender's name), so that each can be cached.
    """

    open: bool  # iOS "[...]"
    sep: str  # between date fields: "/", ".", "-", ". "
    dend: str  # after the date: "" or "." ("13. 6. 2018.")
    mid: str  # between date and time: ", ", " ", " klo "
    ap0: bool  # 上午/下午 before the time
    tsep: str  # ":" or "."
    seconds: bool
    ap: bool  # AM/PM after the time
    end: str  # "] ", " - ", ": ", " "
    ymd: bool  # the first field has four digits

    @classmethod
    def of(cls, m: re.Match[str]) -> Layout:
        """The layout of a `GENERIC_HEADER` match."""
        return cls(
            open=bool(m["open"]),
            sep=m["sep"],
            dend=m["dend"],
            mid=m["mid"],
            ap0=bool(m["ap0"]),
            tsep=m["tsep"],
            seconds=m["s"] is not None,
            ap=bool(m["ap"]),
            end=m["end"],
            ymd=len(m["d1"]) == 4,
        )

    def date_part(self, d1: str = r"(\d{1,4})", d2: str = r"(\d{1,2})") -> str:
        """Regex source of the date part; groups: the three numbers."""
        sep = re.escape(self.sep)
        bracket = r"\[" if self.open else ""
        return (
            "\n[\u200e\u200f]*"
            + bracket
            + d1
            + sep
            + d2
            + sep
            + r"(\d{1,4})"
            + re.escape(self.dend)
        )

    def time_part(self) -> str:
        """Regex source of the time part; groups: [am/pm word,] hour, minute, [second,] [a/p]."""
        parts = [re.escape(self.mid)]
        if self.ap0:
            parts.append("(上午|下午|午前|午後|오전|오후)")
        parts += [r"(\d{1,2})", re.escape(self.tsep), r"(\d{2})"]
        if self.seconds:
            parts += [re.escape(self.tsep), r"(\d{2})"]
        if self.ap:
            parts.append(r"[ \u00a0\u202f]?([AaPp])\.?[ \u00a0\u202f]?[Mm]\.?")
        parts.append(
            r" ?[-–] " if self.end.strip() in "-–" and self.end.strip() else re.escape(self.end)
        )
        return "".join(parts)

    def header(self, d1: str = r"(\d{1,4})", d2: str = r"(\d{1,2})") -> re.Pattern[str]:
        """The whole header, from the newline before it (for text)."""
        return re.compile(self.date_part(d1, d2) + self.time_part())

    def bytes_parts(
        self, d1: bytes = rb"[0-9]{1,4}", d2: bytes = rb"[0-9]{1,2}"
    ) -> tuple[bytes, bytes]:
        """Regex sources of the date part and time part for the UTF-8 bytes, no groups."""
        esc = lambda s: re.escape(s.encode())  # noqa: E731
        date = (
            rb"\n(?:\xe2\x80[\x8e\x8f])*"
            + (rb"\[" if self.open else b"")
            + d1
            + esc(self.sep)
            + d2
            + esc(self.sep)
            + rb"[0-9]{1,4}"
            + esc(self.dend)
        )
        time = esc(self.mid)
        if self.ap0:
            time += b"(?:" + "|".join(sorted(AP_WORDS)).encode() + b")"
        time += rb"[0-9]{1,2}" + esc(self.tsep) + rb"[0-9]{2}"
        if self.seconds:
            time += esc(self.tsep) + rb"[0-9]{2}"
        space = rb"(?: |\xc2\xa0|\xe2\x80\xaf)?"  # space, NBSP or U+202F
        if self.ap:
            time += space + rb"[AaPp]\.?" + space + rb"[Mm]\.?"
        dash = self.end.strip() in ("-", "–") and self.end.strip()
        time += rb" ?(?:-|\xe2\x80\x93) " if dash else esc(self.end)
        return date, time

    def splitter(self) -> re.Pattern[bytes]:
        """For `split` on the file's bytes: two groups, the date part and the time part."""
        date, time = self.bytes_parts()
        return re.compile(b"(" + date + b")(" + time + b")")


# Which membership event each kind of system line means; `subject` lines mean none.
EVENT_EFFECT: dict[Event, tuple[MembershipAction, JoinSource] | None] = {
    "created": ("join", "create"),
    "added": ("join", "invite"),
    "joined_link": ("join", "link"),
    "joined_community": ("join", "unknown"),
    "left": ("leave", "unknown"),
    "removed": ("remove", "unknown"),
    "subject": None,
}

_Q = '["“”「」«»„]'  # the quote marks WhatsApp puts around a group name, per language

SYSTEM_LINES: list[tuple[str, Event, str]] = [
    # English
    ("en", "created", rf"^(?P<member>.+?) created group {_Q}(?P<subject>.*){_Q}$"),
    ("en", "created", r"^(?P<member>.+?) created this group$"),
    (
        "en",
        "subject",
        rf"^(?P<actor>.+?) changed the subject (?:from {_Q}.*{_Q} )?to "
        rf"{_Q}(?P<subject>.*){_Q}$",
    ),
    (
        "en",
        "subject",
        rf"^(?P<actor>.+?) changed the group name (?:from {_Q}.*{_Q} )?to "
        rf"{_Q}(?P<subject>.*){_Q}$",
    ),
    ("en", "joined_link", r"^(?P<member>.+?) joined using this group's invite link$"),
    ("en", "joined_link", r"^(?P<member>.+?) joined using a group link$"),  # unsure
    ("en", "joined_community", r"^(?P<member>.+?) joined from the community$"),
    ("en", "added", r"^(?P<member>You) were added$"),
    # Not "X removed this group's icon" or "X added the group description".
    ("en", "added", r"^(?P<actor>.+?) added (?!this group's |the group )(?P<member>.+?)$"),
    ("en", "removed", r"^(?P<actor>.+?) removed (?!this group's |the group )(?P<member>.+?)$"),
    ("en", "left", r"^(?P<member>.+?) left$"),
    # 简体中文. Unsure rows are marked; WhatsApp's zh-CN wording varies between app versions.
    ("zh", "created", r"^(?P<member>.+?) ?创建了群组 ?“(?P<subject>.*)”$"),
    ("zh", "created", r"^(?P<member>.+?) ?创建了此群组$"),  # unsure (iOS)
    (
        "zh",
        "subject",  # unsure
        r"^(?P<actor>.+?) ?将(?:群组)?(?:主题|名称)(?:从 ?“.*” ?)?更改为 ?“(?P<subject>.*)”$",
    ),
    ("zh", "joined_link", r"^(?P<member>.+?) ?(?:已)?通过此群组的邀请链接加入(?:了?群组)?$"),
    ("zh", "joined_community", r"^(?P<member>.+?) ?(?:已)?从社群加入(?:了?群组)?$"),  # unsure
    ("zh", "added", r"^(?P<member>你|您) ?(?:已)?被添加(?:到群组|进群组)?$"),
    ("zh", "added", r"^(?P<actor>.+?) ?添加了 ?(?P<member>.+?)$"),
    ("zh", "removed", r"^(?P<actor>.+?) ?移除了 ?(?P<member>.+?)$"),
    ("zh", "removed", r"^(?P<actor>.+?) ?已将 ?(?P<member>.+?) ?移出群组$"),  # unsure
    ("zh", "left", r"^(?P<member>.+?) ?(?:已退出|退出了)(?:群组)?$"),
    # Português (Brasil)
    ("pt", "created", rf"^(?P<member>.+?) criou o grupo {_Q}(?P<subject>.*){_Q}$"),
    ("pt", "created", r"^(?P<member>.+?) criou este grupo$"),
    (
        "pt",
        "subject",
        rf"^(?P<actor>.+?) mudou o (?:assunto|nome do grupo) (?:de {_Q}.*{_Q} )?"
        rf"para {_Q}(?P<subject>.*){_Q}$",
    ),
    ("pt", "joined_link", r"^(?P<member>.+?) entrou usando o link de convite deste grupo$"),
    ("pt", "joined_community", r"^(?P<member>.+?) entrou neste grupo através da comunidade$"),
    ("pt", "added", r"^(?P<member>Você) foi adicionad[oa]$"),  # unsure
    ("pt", "added", r"^(?P<actor>.+?) adicionou (?P<member>.+?)$"),
    ("pt", "removed", r"^(?P<actor>.+?) removeu (?P<member>.+?)$"),
    ("pt", "left", r"^(?P<member>.+?) saiu$"),
    # Español
    ("es", "created", rf"^(?P<member>.*?) ?(?:creó|[Cc]reaste) el grupo {_Q}(?P<subject>.*){_Q}$"),
    (
        "es",
        "subject",
        rf"^(?P<actor>.*?) ?(?:cambió|[Cc]ambiaste) el (?:asunto|nombre del grupo) "
        rf"(?:de {_Q}.*{_Q} )?a {_Q}(?P<subject>.*){_Q}$",
    ),
    (
        "es",
        "joined_link",
        r"^(?P<member>.*?) ?(?:se unió|[Tt]e uniste) usando el enlace de "
        r"invitación de este grupo$",
    ),
    (
        "es",
        "joined_community",  # unsure
        r"^(?P<member>.*?) ?(?:se unió|[Tt]e uniste) desde la comunidad$",
    ),
    ("es", "added", r"^(?P<actor>.+?) te añadió(?P<member>)$"),
    ("es", "added", r"^(?P<actor>.*?) ?(?:añadió|[Aa]ñadiste) a (?P<member>.+?)$"),
    ("es", "removed", r"^(?P<actor>.+?) te eliminó(?P<member>)$"),
    ("es", "removed", r"^(?P<actor>.*?) ?(?:eliminó|[Ee]liminaste) a (?P<member>.+?)$"),
    ("es", "left", r"^(?P<member>.*?) ?(?:salió|[Ss]aliste) del grupo$"),
    # Deutsch
    ("de", "created", rf"^(?P<member>.+?) ha(?:t|st) die Gruppe {_Q}(?P<subject>.*){_Q} erstellt$"),
    (
        "de",
        "subject",
        rf"^(?P<actor>.+?) ha(?:t|st) den Betreff (?:von {_Q}.*{_Q} )?zu "
        rf"{_Q}(?P<subject>.*){_Q} geändert$",
    ),
    (
        "de",
        "joined_link",
        r"^(?P<member>.+?) (?:ist|bist) dieser Gruppe über den Einladungslink "
        r"beigetreten$",
    ),
    (
        "de",
        "joined_community",
        r"^(?P<member>.+?) (?:ist|bist) dieser Gruppe über die Community "
        r"beigetreten$",
    ),  # unsure
    ("de", "added", r"^(?P<member>Du) wurdest hinzugefügt$"),
    ("de", "added", r"^(?P<actor>.+?) ha(?:t|st) (?P<member>.+?) hinzugefügt$"),
    ("de", "removed", r"^(?P<actor>.+?) ha(?:t|st) (?P<member>.+?) entfernt$"),
    ("de", "left", r"^(?P<member>.+?) ha(?:t|st) die Gruppe verlassen$"),
]

# Words that stand for the exporting user in a matched `actor`/`member` group.
YOU_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset({"You", "you"}),
    "zh": frozenset({"你", "您"}),
    "pt": frozenset({"Você", "você"}),
    "es": frozenset({"Tú", "tú", "Usted", "usted"}),
    "de": frozenset({"Du", "du", "dich"}),
}

# How a language lists several added members: "Ann, Bo and Cy".
LIST_SEPARATORS: dict[str, str] = {
    "en": r", (?:and )?| and ",
    "zh": r"、|，|, | 和 |和(?=[你您]$)",  # unsure; a bare 和 is also in names (王和平)
    "pt": r", | e ",
    "es": r", | y ",
    "de": r", | und ",
}

# The notice some exports attribute to the group itself ("Group: Messages and calls are
# end-to-end encrypted…"); matched at the start of a message text, after any U+200E.
E2E_NOTICE = re.compile(
    r"(?:Messages and calls are end-to-end encrypted"
    r"|Messages to this group are now secured with end-to-end encryption"
    r"|消息和通话已进行端到端加密|消息和通话均已进行端到端加密"  # unsure which app versions
    r"|As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta"
    r"|Los mensajes y las llamadas están cifrados de extremo a extremo"
    r"|Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt)"
)

# Phrases that, found before the first ": " of a line, show the line is a system line whose
# quoted group name contains ": " (`X changed the subject to "a: b"`), not a message by "X …".
SYSTEM_NAME_HINTS = re.compile(
    rf" created group {_Q}| changed the subject | changed the group name |创建了群组|更改为 ?“"
    rf"| criou o grupo {_Q}| mudou o (?:assunto|nome do grupo) "
    rf"|(?:creó|[Cc]reaste) el grupo {_Q}|(?:cambió|[Cc]ambiaste) el (?:asunto|nombre del grupo) "
    rf"| die Gruppe {_Q}| den Betreff "
)

# Whole message texts that are WhatsApp's markers (after any leading U+200E), and their kind.
MEDIA_MARKERS: dict[str, MessageKind] = {
    "<Media omitted>": "media",
    "image omitted": "media",
    "video omitted": "media",
    "GIF omitted": "media",
    "sticker omitted": "sticker",
    "audio omitted": "voice",
    "document omitted": "file",
    "Contact card omitted": "contact",
    "<省略影音内容>": "media",  # unsure (zh-CN Android)
    "<媒体文件已省略>": "media",  # unsure
    "<Arquivo de mídia oculto>": "media",
    "<Mídia oculta>": "media",
    "<Multimedia omitido>": "media",
    "<Medien ausgeschlossen>": "media",
}

DELETED_MARKERS: frozenset[str] = frozenset(
    {
        "This message was deleted",
        "This message was deleted.",
        "You deleted this message",
        "You deleted this message.",
        "此消息已删除",
        "你删除了此消息",
        "此消息已被删除",  # the last one unsure
        "Mensagem apagada",
        "Esta mensagem foi apagada",
        "Você apagou esta mensagem",
        "Se eliminó este mensaje.",
        "Se eliminó este mensaje",
        "Eliminaste este mensaje.",
        "Eliminaste este mensaje",
        "Diese Nachricht wurde gelöscht.",
        "Diese Nachricht wurde gelöscht",
        "Du hast diese Nachricht gelöscht.",
        "Du hast diese Nachricht gelöscht",
    }
)

# The suffix WhatsApp appends to an edited message (iOS puts U+200E before it).
EDITED_SUFFIX = re.compile(
    r"(?: ?\u200e| )?<(?:This message was edited|已编辑此消息|此消息已编辑"  # zh unsure
    r"|Mensagem editada|Se editó este mensaje\.?|Diese Nachricht wurde bearbeitet\.?)>$"
)

# `IMG-20210428-WA0001.jpg (file attached)` (Android with media), localised.
FILE_ATTACHED = re.compile(
    r"^\u200e?(?P<file>.+?) \((?:file attached|Datei angehängt|arquivo anexado"
    r"|archivo adjunto|文件已附加|已附加文件)\)$"  # zh unsure
)
# `<attached: 00000042-PHOTO-2020-06-07-15-13-20.jpg>` (iOS with media).
ATTACHED = re.compile(r"^\u200e?<(?:attached|anexado|adjunto|Anhang|附件): (?P<file>.+)>$")
# iOS without media: `Report.pdf • 3 pages ‎document omitted`.
OMITTED_SUFFIX = re.compile(r"\u200e(?P<what>document|image|video|audio|sticker|GIF) omitted$")

# Export file names (without the extension) that carry the chat name.
FILE_NAMES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"^WhatsApp Chat with (?P<name>.+)$",  # Android, English
        r"^WhatsApp Chat - (?P<name>.+)$",  # iOS zip, English
        r"^WhatsApp[ -]Chat mit (?P<name>.+)$",  # German
        r"^Chat de WhatsApp con (?P<name>.+)$",  # Spanish
        r"^Conversa do WhatsApp com (?P<name>.+)$",  # Portuguese
        r"^与(?P<name>.+)的 ?WhatsApp ?聊天$",  # Chinese, unsure
    )
)

# First lines of a message that make it a location or a poll.
LOCATION_PREFIXES = ("location: ", "localização: ", "ubicación: ", "Standort: ", "位置: ")
POLL_FIRST_LINES = frozenset({"POLL:", "ENQUETE:", "ENCUESTA:", "UMFRAGE:", "投票:"})


@dataclass(frozen=True, slots=True)
class SystemRule:
    """One compiled row of `SYSTEM_LINES`."""

    lang: str
    event: Event
    pattern: re.Pattern[str]
    you: frozenset[str]
    separators: re.Pattern[str]


RULES: tuple[SystemRule, ...] = tuple(
    SystemRule(lang, event, re.compile(regex), YOU_WORDS[lang], re.compile(LIST_SEPARATORS[lang]))
    for lang, event, regex in SYSTEM_LINES
)


def match_system_line(text: str) -> tuple[SystemRule, re.Match[str]] | None:
    """The first rule whose regex matches the system line `text`, with its match."""
    for rule in RULES:
        m = rule.pattern.match(text)
        if m is not None:
            return rule, m
    return None


_MEDIA_NAME_KINDS: tuple[tuple[re.Pattern[str], MessageKind], ...] = (
    (re.compile(r"(?i)-(?:AUDIO|PTT)-|\.(?:opus|ogg)$"), "voice"),
    (re.compile(r"(?i)-STICKER-|^STK-|\.webp$"), "sticker"),
    (re.compile(r"(?i)\.vcf$"), "contact"),
    (
        re.compile(
            r"(?i)-(?:PHOTO|VIDEO|GIF)-|^(?:IMG|VID|PTT)-|\.(?:jpe?g|png|gif|heic|mp4|mov"
            r"|3gp|m4a|mp3|aac)$"
        ),
        "media",
    ),
)


def kind_of_file(name: str) -> MessageKind:
    """The message kind of an attached file, from WhatsApp's file naming."""
    for pattern, kind in _MEDIA_NAME_KINDS:
        if pattern.search(name):
            return kind
    return "file"


_OMITTED_KINDS: dict[str, MessageKind] = {
    "document": "file",
    "image": "media",
    "video": "media",
    "audio": "voice",
    "sticker": "sticker",
    "GIF": "media",
}


def read_markers(text: str) -> tuple[str, MessageKind, bool, bool]:
    """`(text, kind, deleted, edited)` of a message text, WhatsApp's own markers read.

    The edited suffix is cut off; the U+200E that iOS puts before its markers is removed; the
    rest of the text is kept exactly.
    """
    edited = False
    if text[-1:] == ">":
        m = EDITED_SUFFIX.search(text)
        if m is not None:
            text, edited = text[: m.start()], True
    bare = text.lstrip("\u200e")
    kind = MEDIA_MARKERS.get(bare)
    if kind is not None:
        return bare, kind, False, edited
    if bare in DELETED_MARKERS:
        return bare, "text", True, edited
    first = bare.partition("\n")[0]
    found = FILE_ATTACHED.match(first) or ATTACHED.match(first)
    if found is not None:
        return bare, kind_of_file(found["file"]), False, edited
    omitted = OMITTED_SUFFIX.search(first)
    if omitted is not None:
        return bare.replace("\u200e", ""), _OMITTED_KINDS[omitted["what"]], False, edited
    if first in POLL_FIRST_LINES and len(first) < len(bare):
        return text, "poll", False, edited
    if first.startswith(LOCATION_PREFIXES) and "://" in first:
        return text, "location", False, edited
    return text, "text", False, edited


_INVISIBLE = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"), None
)
_SPACES = " \u00a0\u202f"


def clean_name(raw: str) -> str:
    """A name as an identity: invisible marks and the non-contact "~ " removed, then NFKC."""
    s = raw.translate(_INVISIBLE).strip(_SPACES)
    if s[:1] == "~" and s[1:2] in _SPACES:
        s = s[1:]
    return unicodedata.normalize("NFKC", s).strip() or raw.strip() or "?"


def read_system_line(
    line: str, known: Collection[str]
) -> tuple[MembershipAction, JoinSource, str | None, list[str]] | None:
    """`(action, source, actor, members)` of a membership system line, names cleaned.

    The exporting user is "You". A member list ("Ann, Bo and Cy") is split with the language's
    separators unless the whole of it is a `known` name. None for other notices.
    """
    hit = match_system_line(line)
    if hit is None:
        return None
    rule, m = hit
    effect = EVENT_EFFECT[rule.event]
    if effect is None:
        return None
    groups = m.groupdict()
    actor = _person(groups["actor"], rule) if "actor" in groups else None
    text = groups["member"]
    parts = [text]
    whole = _person(text, rule)
    if whole != "You" and whole not in known:
        parts = [p for p in rule.separators.split(text) if p.strip()] or [text]
    return effect[0], effect[1], actor, [_person(p, rule) for p in parts]


def _person(text: str | None, rule: SystemRule) -> str:
    name = clean_name(text) if text and text.strip() else ""
    return "You" if not name or name in rule.you else name
