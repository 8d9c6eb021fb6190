// SPDX-License-Identifier: Apache-2.0
// The hand-made torture set: one case per line of tests/data/tokenizer/torture.txt, written as
// raw bytes (some lines are deliberately invalid UTF-8). No case contains '\n'; none ends in '\r'.
'use strict';

function lcg(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
}

function mixedLine(length, seed) {
  const rnd = lcg(seed);
  const pieces = ['the', 'Café', 'naïve', 'Straße', '我', '爱', '日本語', 'Привет', 'مرحبا', '🎉', '👍🏽', '...', '!!',
    ',', "'s", "don't", '3.14', '١٢٣', '   ', '\t', '—', '<mask>', '[MASK]', 'ＡＢＣ', 'e\u0301', 'İ', '\u200b',
    'x'.repeat(30), 'supercalifragilisticexpialidocious', '$100', '#hash', '@user', 'http://example.com/a?b=c'];
  let out = '';
  while ([...out].length < length) {
    out += pieces[Math.floor(rnd() * pieces.length)];
    if (rnd() < 0.7) out += ' ';
  }
  return [...out].slice(0, length).join('');
}

function cases() {
  const text = [
    // accents and case
    'Café déjà vu — naïve façade, Ångström, Øresund, Straße, İstanbul, ΣΊΣΥΦΟΣ, Ελληνικά.',
    'ÀÁÂÃÄÅàáâãäå ÇçÈÉÊËèéêë ÌÍÎÏìíîï Ññ ÒÓÔÕÖØòóôõöø ÙÚÛÜùúûü Ýýÿ Ææ Œœ Þþ Ðð',
    'combining: e\u0301 a\u0308\u0301 q\u0307\u0323 o\u0323\u0302 n\u0303 \u0301alone',
    'İ ı I i ǅ ǈ ǋ ß ẞ ﬁ ﬂ Ⅳ ⅳ ℌ Ω K Å',
    'ＡＢＣ１２３ｘｙｚ　fullwidth！？',
    'Ⅻ ½ ² ³ ① ⑴ ١٢٣ ۴۵۶ ๑๒๓ 3.14159 1,000,000 -42 +7 1e10',
    // CJK
    '我爱北京天安门。日本語のテキスト、カタカナとひらがな。한국어 문장입니다.',
    '中文English混合123数字。𠀀𠀁 CJK ext B, 豈 compatibility, 㐀 ext A, 𪜀 ext C, 𫝀 ext D',
    '「引用」『二重』【括弧】〔亀甲〕・中点 ー長音',
    // emoji
    'I ❤️ NY 🎉🎉 👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🇫🇷🇩🇪 😀😃😄 🥰 🫠',
    'emoji glued:hello😀world👍🏽!',
    // control characters and odd whitespace
    'tab\there\tand\ttabs',
    'nul\u0000byte bell\u0007 esc\u001b[31mred\u001b[0m del\u007f',
    'zero\u200bwidth joiner\u200dnon\u200cjoiner soft\u00adhyphen \ufeffBOM',
    'line\u2028sep para\u2029sep nbsp\u00a0space ideo\u3000space em\u2003space thin\u2009space',
    'vt\u000bff\u000cnel\u0085fs\u001cus\u001f end',
    'private\ue000use \udb80\udc00plane15 replacement\ufffdchar noncharacter\ufdd0',
    'carriage\rreturn inside',
    // mixed scripts
    'Привет, мир! Γειά σου Κόσμε! שלום עולם! مرحبا بالعالم! नमस्ते दुनिया! สวัสดีชาวโลก! ሰላም ዓለም! გამარჯობა',
    'Tiếng Việt có dấu: Người ta nói rằng. Türkçe: İğdır, ılık. Polski: Łódź, źdźbło.',
    'العربية مع التشكيل: مُحَمَّدٌ. עברית עם ניקוד: שָׁלוֹם.',
    // long words
    'a'.repeat(99) + ' ' + 'b'.repeat(100) + ' ' + 'c'.repeat(101),
    'supercalifragilisticexpialidocious'.repeat(6),
    'é'.repeat(101) + ' ' + 'é'.repeat(100),
    'pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism',
    // repeated punctuation and symbols
    '!!!???...,,,;;;::: .... —–- \'\'\'\' ``quote\'\' "double" «guillemets» ¿Qué? ¡Hola!',
    '$$$ +++ <<>> ^^^ ||| ~~~ ### %%% &&& *** @@@ === ``` ___ /// \\\\\\ ((( ))) [[[ ]]] {{{ }}}',
    "'s 't 're 've 'm 'll 'd 'S 'T 'RE — don't can't won't I'm we'll they'd it's y'all",
    'http://www.example.com/path?query=1&x=2#frag user@example.com C++ C# .NET x86_64 foo_bar',
    // spaces and empties
    '',
    '   ',
    '  leading and trailing   ',
    'multiple     spaces\t\t\tand\ttabs',
    ' ',
    '\t',
    // special tokens inside text
    '[CLS] [SEP] [MASK] [PAD] [UNK] [mask] [Mask] [MASK][MASK] a[MASK]b',
    '<s> </s> <mask> <pad> <unk> <MASK> x<mask>y <mask><mask>',
    'Hello <mask>! Hello   <mask>  world. This sentence : "<mask>" means [MASK] .',
    'This sentence : "A man is playing a guitar." means [MASK] .',
    // CLIP: its special tokens, case, whitespace clean-up, NFC, digits one by one, contractions
    '<|startoftext|>a photo<|endoftext|> <|STARTOFTEXT|> <|EndOfText|> <|endoftext|><|endoftext|> <|startoftext',
    'A PHOTO OF A DOG. İstanbul ΣΊΣΥΦΟΣ Straße ǅemal ﬁne ǈ \u0130I',
    'e\u0301 a\u0308 \u1100\u1161\u11a8 \u212b \u00c5 o\u0323\u0302 \u0344 \u0958 \u2126',
    'line\rbreak\u2028sep\u00a0nbsp\u3000ideo \u200b zwsp \u0085nel  \t\f\v mixed',
    '12345 3.14159 1,000,000 ２０２６ ½ ⅷ ٣ 10th 2nd',
    "it's IT'S they're WE'VE i'M you'll HE'D 'sup o'clock rock'n'roll ''s '''",
    'a</w> </w> <w> hello</w>world ##ing Ġhello',
  ];
  const lines = text.map((t) => Buffer.from(t, 'utf8'));
  // invalid UTF-8
  const hex = (h) => Buffer.from(h.replace(/ /g, ''), 'hex');
  const raw = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
  lines.push(raw('lone bytes ', hex('ff fe'), ' and ', hex('80'), 'def'));
  lines.push(raw('bad pair ', hex('c3 28'), ' truncated3 ', hex('e2 82'), ' truncated4 ', hex('f0 9f 98'), ' end'));
  lines.push(raw('surrogate ', hex('ed a0 80'), ' overlong ', hex('c0 af'), ' ', hex('e0 80 af'), ' toobig ', hex('f4 90 80 80'), '!'));
  lines.push(raw('Caf', hex('e9'), ' latin-1 ', hex('e0 e8 ec f2 f9'), ' <mask> ', hex('a0'), '[MASK]'));
  lines.push(raw(hex('f0 9f 98 80 f0 9f 98'), 'x', hex('ef bb bf'), 'bom', hex('fe ff'), hex('c2')));
  // 10k-character lines
  lines.push(Buffer.from('word '.repeat(2000), 'utf8'));
  lines.push(Buffer.from('a'.repeat(10000), 'utf8'));
  lines.push(Buffer.from('é'.repeat(10000), 'utf8'));
  lines.push(Buffer.from('!'.repeat(10000), 'utf8'));
  lines.push(Buffer.from(mixedLine(10000, 1), 'utf8'));
  lines.push(Buffer.from(mixedLine(10000, 2), 'utf8'));
  lines.push(Buffer.from('我'.repeat(3000) + ' ' + '🎉'.repeat(2000), 'utf8'));
  for (const l of lines) {
    if (l.includes(0x0a) || (l.length && l[l.length - 1] === 0x0d)) throw new Error('torture line with \\n or final \\r');
  }
  return lines;
}

module.exports = { cases };
