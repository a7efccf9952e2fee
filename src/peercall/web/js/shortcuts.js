// Keys for the buttons used most in a call, as other call apps have them: M mutes
// or unmutes, V turns the camera off or on, H raises or lowers the hand. Not while
// typing (a chat line with an "m" in it mutes nobody), and not with Ctrl, Alt or
// Meta (the browser's keys).

function typing(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

/**
 * Presses `buttons[key]` when `key` is pressed, while that button is shown.
 * @param {Record<string, HTMLButtonElement>} buttons  by lower-case key
 */
export function bindShortcuts(buttons) {
  for (const [key, button] of Object.entries(buttons)) {
    button.setAttribute("aria-keyshortcuts", key.toUpperCase());
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
    if (typing(event.target)) return;
    const key = event.key.toLowerCase();
    const button = Object.hasOwn(buttons, key) ? buttons[key] : null;
    if (button && pressIfShown(button)) event.preventDefault();
  });
}

/** Presses `button` if a person could: shown and enabled. Whether it was pressed. */
export function pressIfShown(button) {
  if (button.disabled || button.closest("[hidden]")) return false;
  button.click();
  return true;
}
