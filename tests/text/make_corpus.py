#!/usr/bin/env python3
"""Writes tests/text/corpus.json: the texts on which edgeserve's tokenizer must give the same ids,
attention masks and token type ids as the Python `tokenizers` package (tests/text/, `make
models-text` records the reference). Written for the tests, deterministic: hand-written texts of
every kind a tokenizer trips on (ASCII, punctuation runs, accents and combining marks, CJK, emoji
with modifiers and joiners, mixed scripts, whitespace and control characters, the empty string,
texts far over the maximum length), then each base sentence varied (case, punctuation, spacing,
a prefix in another script) until there are over 500.

Usage: python3 tests/text/make_corpus.py  (rewrites tests/text/corpus.json)
"""

import json
from pathlib import Path

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A man is playing a guitar on the street.",
    "How do I reset my password?",
    "The weather in Paris is lovely in the spring.",
    "She sold seashells by the seashore.",
    "Machine learning models can run inside a web browser.",
    "Where is the nearest train station?",
    "I can't believe it's already December!",
    "The meeting was moved to 3:30 pm on Thursday.",
    "Our new phone costs $1,299.99 (tax included).",
    "Email me at someone@example.com or call +1-555-0100.",
    "Visit https://example.org/path?query=1&x=y#frag for details.",
    "The cat sat on the mat, and the dog sat on the log.",
    "Photosynthesis converts light energy into chemical energy.",
    "Don't count your chickens before they hatch.",
    "It was the best of times, it was the worst of times.",
    "E = mc^2 is Einstein's most famous equation.",
    "Tokenizers split text into sub-word units like ##ing.",
    "The stock market fell 2.5% on Monday morning.",
    "Please turn off the lights when you leave the room.",
    "Children are playing football in the park.",
    "A woman is slicing tomatoes in the kitchen.",
    "The recipe calls for two cups of flour and one egg.",
    "Rust compiles to WebAssembly with wasm-bindgen.",
    "Semantic search ranks documents by meaning, not keywords.",
    "My flight was delayed by four hours.",
    "The museum opens at 9 a.m. and closes at 5 p.m.",
    "He plays the piano beautifully.",
    "What's the difference between a list and a tuple?",
    "The library's Wi-Fi password is printed on the desk.",
    "unbelievably, antidisestablishmentarianism is a long word",
    "CamelCaseIdentifiersLikeThisOne and snake_case_ones_too",
    "version 2.0.1-beta+build.42 was released",
    "I'm gonna grab a coffee, wanna come?",
    "Shakespeare wrote 37 plays and 154 sonnets.",
    "The mitochondria is the powerhouse of the cell.",
    "Do androids dream of electric sheep?",
    "Two plus two equals four; three times three equals nine.",
    "Quantum computers use qubits instead of bits.",
    "Keep calm and carry on.",
]

PUNCTUATION = [
    "!!!", "???", "?!?!?!", "...", "…", "---", "___", "***", "(((", ")))", "[[[]]]", "{}{}{}",
    "\"'\"'\"", "a,b;c:d.e", "!@#$%^&*()", "<<>>", "~~~", "´`´`", "¡¿¡¿", "«guillemets»",
    "“curly quotes”", "‘single’", "—em—dash—", "–en–dash–", "•bullet•", "§¶†‡", "½ ¼ ¾",
    "100%", "#hashtag", "@mention", "C++", "C#", "F#", "a/b\\c|d", "x=y+z-w*v/u", "<html></html>",
    "{\"json\": [1, 2, 3]}", "......!!!!!?????", "-- -- --", "'quoted'", "''", "\"\"",
]

ACCENTS = [
    "café", "naïve", "Ångström", "São Paulo", "Crème brûlée", "Zürich", "façade", "jalapeño",
    "résumé", "coöperate", "Dvořák", "Łódź", "Ærøskøbing", "Þingvellir", "İstanbul", "straße",
    "e\u0301", "cafe\u0301 au lait", "n\u0303", "A\u030a", "ﬁnancial ﬂow", "Ǆemal", "ǅ", "Ⅻ",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ", "ｶﾀｶﾅ", "Ä Ö Ü ä ö ü ß", "Ééé Èèè Êêê", "Ñandú", "Çà et là",
]

SCRIPTS = [
    "你好，世界", "東京は日本の首都です。", "한국어 문장입니다", "我爱自然语言处理", "今日はいい天気ですね",
    "Привет, мир!", "Γειά σου Κόσμε", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया",
    "สวัสดีชาวโลก", "Xin chào thế giới", "Merhaba dünya", "გამარჯობა მსოფლიო", "Բարեւ աշխարհ",
    "ሰላም ልዑል", "ជំរាបសួរ", "ສະບາຍດີ", "မင်္ဂလာပါ", "வணக்கம் உலகம்",
    "hello 世界 мир عالم", "Tokyo 東京 Токио", "AI と機械学習", "数学 math математика", "𠜎𠜱𠝹𠱓",
]

EMOJI = [
    "I love 🍕", "👍", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "🏳️‍🌈", "😀😃😄😁", "🙂 ok 🙃",
    "rocket 🚀 launch", "🧑🏿‍💻 coding", "🤖🤖🤖", "☕️ and 🥐", "⭐⭐⭐⭐⭐ five stars", "©®™",
    "keycap 1️⃣", "🫠", "🐈‍⬛", "e-mail 📧 me", "🎉🎊 party",
]

WHITESPACE = [
    "", " ", "  ", "\t", "\n", "\r\n", "\t\n\r", "a\u00a0b", "zero\u200bwidth", "\u3000ideographic",
    "\x00null", "\x07bell", "esc\x1b[0m", "\x7fdel", "soft\u00adhyphen", "bom\ufeffmark",
    "  leading spaces", "trailing spaces   ", "many     spaces     between", "line1\nline2\nline3",
    "tab\tseparated\tvalues", "\u2028line separator", "\u2029paragraph", "rtl \u202emark\u202c end",
    "\u200d joiner", "control\x01\x02\x03chars", "\ufffd replacement", "\U0001F600\u0000\U0001F600",
]

LONG = [
    " ".join(SENTENCES),
    " ".join(SENTENCES * 3),
    "word " * 1000,
    "a" * 600,
    "supercalifragilisticexpialidocious" * 40,
    "的" * 900,
    "😀" * 500,
    "!" * 1200,
    "\n".join(SENTENCES * 2),
    " ".join(f"token{i}" for i in range(700)),
]


def variants(s: str) -> list[str]:
    return [
        s.upper(),
        s.lower(),
        s.title(),
        s.rstrip(".!?") + "!!!",
        "  " + s + "  ",
        s.replace(" ", "  "),
        s.replace(" ", "\t"),
        "« " + s + " »",
        "Q: " + s + " A: yes.",
        "日本語: " + s,
        s + " 🙂",
        s.replace("e", "é"),
    ]


def corpus() -> list[str]:
    texts = SENTENCES + PUNCTUATION + ACCENTS + SCRIPTS + EMOJI + WHITESPACE + LONG
    for s in SENTENCES:
        texts += variants(s)
    seen, unique = set(), []
    for t in texts:
        if t not in seen:
            seen.add(t)
            unique.append(t)
    return unique


if __name__ == "__main__":
    texts = corpus()
    assert len(texts) >= 500, len(texts)
    path = Path(__file__).with_name("corpus.json")
    path.write_text(json.dumps(texts, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{path}: {len(texts)} texts")
