// Reading parts of JSON text that JSON.stringify wrote, without parsing it: the host puts stored payloads
// together from slices of what the agents sent (src/trace/ingest.ts, src/trace/expand_http.ts).

/** The closing quote of the string whose opening quote is at `i` (-1 if none). */
export function endOfString(text: string, i: number): number {
  for (let q = text.indexOf('"', i + 1); q >= 0; q = text.indexOf('"', q + 1)) {
    let slashes = 0;
    while (text.charCodeAt(q - 1 - slashes) === 92) slashes++;
    if (slashes % 2 === 0) return q;
  }
  return -1;
}
