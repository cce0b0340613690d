// The pair on the Rate page: two media labelled A and B, the four answers and the progress strip.
// Drawn from the view the page was given (rater/app/pair_api.py: pair_view); each answer is
// posted to /_rater/answer, whose reply is the next pair's view, swapped in place: a vote runs
// no Streamlit script. When the reply says "rerun" (nothing left, the link ended, the page
// expired), the page is drawn anew by Streamlit.
//
// Everything shown is set as text (textContent) or as a URL: a model's text, the prompt and the
// labels are never parsed as HTML. Keys: Left = A, Right = B, Down = can't decide, S = skip.
//
// Streamlit calls this function again whenever the page is drawn with a new view, on the same
// element: what must outlive one call (the newest view, an answer in flight, the key listener)
// is kept on the element.

const ANSWER_URL = "/_rater/answer";
// An answer this soon after a new pair appeared was meant for the pair before it (the second
// click of a double click, a key pressed twice): nobody judges a pair in that time. The buttons
// say so (aria-disabled) for that time, looking as usual.
const SETTLE_MS = 350;
// A "rerun" asked of Streamlit that brings no new view by then leaves the answers usable again.
const RERUN_WAIT_MS = 8000;
// An answer not answered by then is given up (the rater may try again: a second answer to the
// same pair writes nothing).
const ANSWER_TIMEOUT_MS = 20000;
const NOT_SAVED = "Your vote was not saved";
const KEYS = { ArrowLeft: "left", ArrowRight: "right", ArrowDown: "tie", s: "skip", S: "skip" };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function medium(side) {
  if (side.kind === "text") {
    const box = el("div", "rater-text");
    box.tabIndex = 0;  // scrolls with the keyboard too
    box.appendChild(el("pre", "", side.text));
    return box;
  }
  if (side.kind === "video") {
    const video = el("video", "rater-media");
    video.controls = true;
    video.loop = true;
    video.preload = "auto";
    video.src = side.url;
    return video;
  }
  if (side.kind === "audio") {
    const audio = el("audio", "rater-media rater-audio");
    audio.controls = true;
    audio.preload = "auto";
    audio.src = side.url;
    return audio;
  }
  const img = el("img", "rater-media");
  img.alt = "";
  img.decoding = "async";
  img.src = side.url;
  return img;
}

// The prepared pair's images, loaded now so that they show at once after the vote. The Image
// objects are kept until the next view (an image nobody holds may be dropped before it loads).
function warm(state, urls) {
  state.warm = (urls || []).map((url) => {
    const img = new Image();
    img.src = url;
    return img;
  });
}

function screen(view) {  // what a view shows
  return JSON.stringify([view.session, view.pair, view.error, view.labels, view.progress]);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".rater-pair") || parentElement;
  const state = root.__rater || (root.__rater = {
    view: null, sending: false, waiting: false, shownAt: 0, pairId: null, warm: [], onKey: null,
    rerunTimer: null,
  });
  // The newest view wins: a page drawn again with an older view (a rerun that started before
  // an answer came back) does not take the rater back to a pair already answered.
  const before = state.view;
  if (!state.view || state.view.session !== data.session || data.serial >= state.view.serial) {
    state.view = data;
    clearTimeout(state.rerunTimer);
    state.waiting = false;  // the rerun asked for has come (or the page was drawn anew)
  }
  const busy = () => state.sending || state.waiting;
  const settling = () => performance.now() - state.shownAt < SETTLE_MS;

  function render(view, error) {
    const focused = root.contains(document.activeElement) && document.activeElement.dataset
      ? document.activeElement.dataset.choice : undefined;
    root.replaceChildren();
    const pair = view.pair;
    if (!pair || pair.id !== state.pairId) {
      state.pairId = pair ? pair.id : null;
      state.shownAt = performance.now();
      setTimeout(update, SETTLE_MS + 10);
    }
    root.dataset.matchup = pair ? pair.id : "";
    const message = error || view.error;
    if (message) {
      const box = el("div", "rater-error", message);
      box.setAttribute("role", "alert");
      root.appendChild(box);
    }
    if (!pair) return;
    if (pair.prompt !== null && pair.prompt !== undefined) {
      const line = el("p", "rater-prompt");
      line.appendChild(el("strong", "", "Prompt: "));
      line.appendChild(el("span", "", pair.prompt));
      root.appendChild(line);
    }
    if (pair.given) {
      const given = el("div", "rater-given");
      given.appendChild(el("div", "rater-caption", "Given"));
      given.appendChild(medium(pair.given));
      root.appendChild(given);
    }
    const sides = el("div", "rater-sides");
    for (const [letter, side] of [["A", pair.left], ["B", pair.right]]) {
      const column = el("div", "rater-side");
      column.appendChild(el("h3", "rater-letter", letter));
      column.appendChild(medium(side));
      sides.appendChild(column);
    }
    root.appendChild(sides);
    const main = el("div", "rater-answers");
    const others = el("div", "rater-others");
    for (const [choice, row, primary] of [["left", main, true], ["right", main, true],
                                          ["tie", others, false], ["skip", others, false]]) {
      const button = el("button", primary ? "rater-button rater-primary" : "rater-button",
                        view.labels[choice]);
      button.type = "button";
      button.dataset.choice = choice;
      button.addEventListener("click", (event) => {
        // event.detail: the click's count in a quick series; 0 for Enter or Space on a button
        if (event.detail < 2) send(choice);
      });
      row.appendChild(button);
    }
    root.appendChild(main);
    root.appendChild(others);
    root.appendChild(el("div", "rater-progress", view.progress));
    update();
    if (focused) {  // a keyboard user keeps their place (the answered pair's buttons are gone)
      const again = root.querySelector(`button[data-choice="${focused}"]`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  function update() {  // the answers usable or not (aria-disabled: a focused one keeps focus)
    const off = String(busy() || settling());
    root.classList.toggle("rater-busy", busy());
    for (const button of root.querySelectorAll("button")) button.setAttribute("aria-disabled", off);
  }

  async function send(choice) {
    const view = state.view;
    if (busy() || settling() || !view || !view.pair) return;
    state.sending = true;
    update();
    let reply = null;
    let problem = null;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), ANSWER_TIMEOUT_MS);
    try {
      const response = await fetch(ANSWER_URL, {
        signal: abort.signal,
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session: view.session, matchup: view.pair.id, choice }),
        credentials: "same-origin",
        cache: "no-store",
      });
      try {
        reply = await response.json();
      } catch (err) {
        problem = `${NOT_SAVED}: the server answered HTTP ${response.status}. Please try again.`;
      }
    } catch (err) {
      problem = abort.signal.aborted
        ? "The server did not answer in time: your vote may not have been saved. Please try again."
        : `${NOT_SAVED}: the server cannot be reached. Please try again.`;
    }
    clearTimeout(timer);
    state.sending = false;
    if (problem || !reply || typeof reply !== "object") {
      render(state.view, problem || `${NOT_SAVED}. Please try again.`);
      return;
    }
    if (reply.rerun) {  // Streamlit draws the page anew; the answers wait for it
      state.waiting = true;
      update();
      setTriggerValue("rerun", `${reply.serial || 0}:${Date.now()}`);
      clearTimeout(state.rerunTimer);
      state.rerunTimer = setTimeout(() => { state.waiting = false; update(); }, RERUN_WAIT_MS);
      return;
    }
    if (!reply.pair) {  // a refused request: the pair stays
      render(state.view, reply.error || `${NOT_SAVED}. Please try again.`);
      return;
    }
    if (state.view.session === reply.session && reply.serial < state.view.serial) {
      update();  // the page was drawn meanwhile with a newer view than this reply: it stands
      return;
    }
    state.view = reply;
    render(reply);
    warm(state, reply.next);
  }

  function onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)
                   || (target.closest && target.closest(".rater-text, audio, video")))) {
      return;  // typing, or keys of their own: arrows scroll a text, seek in a player
    }
    const choice = KEYS[event.key];
    if (!choice || !root.isConnected || !state.view || !state.view.pair) return;
    event.preventDefault();
    send(choice);
  }

  // Drawn again only if what it shows changed: a video playing, a text scrolled stay as they are.
  if (!root.firstChild || !before || screen(before) !== screen(state.view)) render(state.view);
  warm(state, state.view.next);
  // One listener whatever the number of calls: each call's own closure would answer again.
  if (state.onKey) document.removeEventListener("keydown", state.onKey);
  state.onKey = onKey;
  document.addEventListener("keydown", onKey);
  return () => {
    document.removeEventListener("keydown", onKey);
    if (state.onKey === onKey) state.onKey = null;
    clearTimeout(state.rerunTimer);
  };
}
