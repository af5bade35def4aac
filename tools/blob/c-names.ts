/**
 * C identifiers and text derived from Keras names and file names for the generated headers:
 * never a reserved identifier (C and C++ keywords, the standard headers' macros and names, a
 * leading underscore, a double underscore), never two alike (suffix _2, _3, ...), and the
 * original name only inside comments and string literals, written so that it cannot end them.
 */

/** C (C89 to C23) and C++ keywords: an Arduino sketch includes the header from C++. */
const KEYWORDS = `auto break case char const continue default do double else enum extern float for goto if inline int long
register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while
alignas alignof bool constexpr false nullptr static_assert thread_local true typeof typeof_unqual
asm catch class const_cast delete dynamic_cast explicit export friend mutable namespace new noexcept operator
private protected public reinterpret_cast static_cast template this throw try typeid typename using virtual
wchar_t char8_t char16_t char32_t concept consteval constinit co_await co_return co_yield decltype requires
and and_eq bitand bitor compl not not_eq or or_eq xor xor_eq`;

/** Macros and names of the standard headers a firmware file is likely to include with this one. */
const LIBRARY = `NULL EOF BUFSIZ FILENAME_MAX FOPEN_MAX L_tmpnam TMP_MAX SEEK_SET SEEK_CUR SEEK_END stdin stdout stderr
errno assert offsetof va_start va_arg va_end va_copy va_list setjmp longjmp jmp_buf EDOM ERANGE EILSEQ
CHAR_BIT CHAR_MIN CHAR_MAX SCHAR_MIN SCHAR_MAX UCHAR_MAX SHRT_MIN SHRT_MAX USHRT_MAX INT_MIN INT_MAX UINT_MAX
LONG_MIN LONG_MAX ULONG_MAX LLONG_MIN LLONG_MAX ULLONG_MAX MB_LEN_MAX
INT8_MIN INT8_MAX UINT8_MAX INT16_MIN INT16_MAX UINT16_MAX INT32_MIN INT32_MAX UINT32_MAX
INT64_MIN INT64_MAX UINT64_MAX INTPTR_MIN INTPTR_MAX UINTPTR_MAX SIZE_MAX PTRDIFF_MIN PTRDIFF_MAX
INTMAX_MIN INTMAX_MAX UINTMAX_MAX WCHAR_MIN WCHAR_MAX WINT_MIN WINT_MAX SIG_ATOMIC_MIN SIG_ATOMIC_MAX
INT8_C INT16_C INT32_C INT64_C UINT8_C UINT16_C UINT32_C UINT64_C INTMAX_C UINTMAX_C
int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t intptr_t uintptr_t intmax_t uintmax_t
size_t ptrdiff_t wchar_t max_align_t FILE fpos_t div_t ldiv_t time_t clock_t
FLT_MAX FLT_MIN FLT_EPSILON DBL_MAX DBL_MIN DBL_EPSILON HUGE_VAL INFINITY NAN M_PI M_E
EXIT_SUCCESS EXIT_FAILURE RAND_MAX CLOCKS_PER_SEC NDEBUG
abs div exit free malloc calloc realloc memcpy memmove memset memcmp strlen strcpy strcmp printf sprintf
main signal raise time clock`;

const RESERVED = new Set([...KEYWORDS.split(/\s+/), ...LIBRARY.split(/\s+/)]);

/** Identifiers longer than this are cut (C99 guarantees 63 significant characters in a macro name). */
const MAX_IDENTIFIER = 63;

/** Why `id` may not be used, or null when it may. */
export function reservedReason(id: string): string | null {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(id)) return 'not a C identifier (letters, digits, _; not starting with a digit)';
  if (RESERVED.has(id)) return 'a C/C++ keyword or a standard library name';
  if (id.startsWith('_')) return 'a leading underscore is reserved for the implementation';
  if (id.includes('__')) return 'a double underscore is reserved (C++)';
  if (id.endsWith('_')) return 'a trailing underscore makes NAME__SIZE and the like (a double underscore)';
  return null;
}

/** A short hash of the whole name, so that names cut to the same prefix stay told apart. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/**
 * A safe identifier for `name`: accents dropped, other characters turned into single
 * underscores, no leading or trailing underscore, `kw_` before a leading digit or a reserved
 * word, at most `max` characters (a cut name ends in a hash of the whole name).
 */
export function cIdentifier(name: string, fallback = 'unnamed', max = MAX_IDENTIFIER): string {
  let id = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!id) id = fallback;
  if (/^[0-9]/.test(id) || reservedReason(id) !== null) id = `kw_${id}`;
  if (id.length > max) id = `${id.slice(0, max - 9).replace(/_+$/, '')}_${hash(name)}`;
  return id;
}

/** Hands out identifiers that are unique in one header: the second `a_b` becomes `a_b_2`. */
export class CNames {
  private readonly used = new Set<string>();

  /** Marks identifiers the header defines anyway. */
  reserve(...ids: string[]): void {
    for (const id of ids) this.used.add(id);
  }

  /** `id` (already safe), or `id_2`, `id_3`, ... when taken. */
  take(id: string): string {
    let out = id;
    for (let k = 2; this.used.has(out); k++) out = `${id}_${k}`;
    this.used.add(out);
    return out;
  }
}

/** `text` inside a C block comment: `*` `/` cannot close it, control characters become spaces. */
export function commentText(text: string): string {
  return text.replace(/[\0-\x1f\x7f]/g, ' ').replace(/\*\//g, '* /');
}

/** A C string literal of `text`'s UTF-8 bytes: printable ASCII as is, the rest as octal escapes (no trigraphs). */
export function cString(text: string): string {
  let out = '"';
  for (const b of new TextEncoder().encode(text)) {
    const c = String.fromCharCode(b);
    if (c === '"' || c === '\\' || c === '?') out += `\\${c}`;
    else if (b >= 0x20 && b < 0x7f) out += c;
    else out += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return out + '"';
}
