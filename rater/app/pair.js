// The pair on the Rate page: two media labelled A and B, the four answers and the progress strip.
// Drawn from the view the page was given (rater/app/pair_api.py: pair_view); each answer is
// posted to /_rater/answer, whose reply is the next pair's view, swapped in place: a vote runs
// no Streamlit script. When the reply says "rerun" (nothing left, the link ended, the page
// expired), the page is drawn anew by Streamlit.
//
// Everything shown is set as text (textContent) or as a URL: a model's text, the prompt and the
// labels are never parsed as HTML. Keys: Left = A, Right = B, Down = can't decide, S = skip.

const ANSWER_URL = "/_rater/answer";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function medium(side) {
  if (side.kind === "text") {
    const box = el("div", "rater-text");
    box.appendChild(el("pre", "", side.text));
    return box;
  }
  if (side.kind === "video") {
    const video = el("video", "rater-media");
    video.controls = true;
    video.loop = true;
    video.src = side.url;
    return video;
  }
  if (side.kind === "audio") {
    const audio = el("audio", "rater-audio");
    audio.controls = true;
    audio.src = side.url;
    return audio;
  }
  const img = el("img", "rater-media");
  img.alt = "";
  img.src = side.url;
  return img;
}

function warm(urls) {  // the prepared pair's images, so that they show at once after the vote
  for (const url of urls || []) {
    const img = new Image();
    img.src = url;
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".rater-pair") || parentElement;
  // The newest view wins: a page drawn again with an older view (a rerun that started before
  // an answer came back) does not take the rater back to a pair already answered.
  const state = root.__rater || (root.__rater = { view: null, busy: false });
  if (!state.view || state.view.session !== data.session || data.serial >= state.view.serial) {
    state.view = data;
  }

  function render(view, error) {
    root.replaceChildren();
    const message = error || view.error;
    if (message) root.appendChild(el("div", "rater-error", message));
    const pair = view.pair;
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
      button.disabled = state.busy;
      button.addEventListener("click", () => send(choice));
      row.appendChild(button);
    }
    root.appendChild(main);
    root.appendChild(others);
    root.appendChild(el("div", "rater-progress", view.progress));
  }

  function setBusy(busy) {
    state.busy = busy;
    for (const button of root.querySelectorAll("button")) button.disabled = busy;
  }

  async function send(choice) {
    const view = state.view;
    if (state.busy || !view || !view.pair) return;
    setBusy(true);
    let reply = null;
    try {
      const response = await fetch(ANSWER_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ session: view.session, matchup: view.pair.id, choice }),
        credentials: "same-origin",
      });
      reply = await response.json();
    } catch (err) {
      setBusy(false);
      render(view, "Your vote was not saved: the server cannot be reached. Please try again.");
      return;
    }
    setBusy(false);
    if (reply.rerun) {
      setTriggerValue("rerun", (reply.serial || 0) + ":" + Date.now());
      return;
    }
    if (reply.pair === undefined) {  // a refused request: the pair stays
      render(view, reply.error || "Your vote was not saved. Please try again.");
      return;
    }
    state.view = reply;
    render(reply);
    warm(reply.next);
  }

  function onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      return;
    }
    const choice = { ArrowLeft: "left", ArrowRight: "right", ArrowDown: "tie", s: "skip",
                     S: "skip" }[event.key];
    if (!choice || !root.isConnected) return;
    event.preventDefault();
    send(choice);
  }

  render(state.view);
  warm(state.view.next);
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}
