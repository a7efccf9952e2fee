// Web addresses in chat messages, as links. Only http and https addresses become
// links (never javascript:, data: or file:), each made with createElement and
// textContent like the rest of the message, which stays text. A link opens in a new
// tab that neither sees this page (noopener) nor learns its address, the call's
// link (noreferrer).

// An address runs to the next space; what could never be in one ends it too.
const ADDRESS = /\bhttps?:\/\/[^\s<>"]+/gi;
// Punctuation after an address ends the sentence, not the address ("see http://x.org.").
const SENTENCE_END = /[.,;:!?'")\]]+$/;

function webUrl(address) {
  try {
    const url = new URL(address);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null; // "http://[" and the like: text
  }
}

/** Where the address found at the start of `found` ends: without the sentence's
 * closing punctuation, but keeping a ")" that closes a "(" of its own. */
function addressIn(found) {
  let address = found.replace(SENTENCE_END, "");
  const rest = found.slice(address.length);
  if (rest.startsWith(")") && address.includes("(")) address += ")";
  return address;
}

/** `text` as nodes for an element: text, and an <a> for each web address in it. */
export function withLinks(text) {
  const nodes = [];
  let shownUpTo = 0;
  for (const match of text.matchAll(ADDRESS)) {
    const address = addressIn(match[0]);
    const url = webUrl(address);
    if (!url) continue;
    nodes.push(document.createTextNode(text.slice(shownUpTo, match.index)));
    const link = document.createElement("a");
    link.href = url.href;
    link.textContent = address; // as written; the title shows where it really goes
    link.title = url.href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    nodes.push(link);
    shownUpTo = match.index + address.length;
  }
  nodes.push(document.createTextNode(text.slice(shownUpTo)));
  return nodes;
}
