// The sidebar: every case with its progress and its visits, each a button to jump there.

import { get } from "./api.js";

export class Sidebar {
  // list: the <ul> of cases (main.js); onError: a refresh that failed, for the status bar.
  constructor(list, { onJump, onError }) {
    this.list = list;
    this.onJump = onJump;
    this.onError = onError;
    this.timer = null;
    this.currentCase = null;
  }

  async refresh() {
    const cases = await get("/api/cases");
    this.list.replaceChildren(...cases.map((c) => this.caseItem(c)));
    this.markCurrent(this.currentCase);
  }

  // Label saves come in bursts; count again at most once a second.
  refreshSoon() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh().catch((e) => this.onError(e)); // stale counts would mislead: say so
    }, 1000);
  }

  caseItem(c) {
    const li = document.createElement("li");
    li.dataset.case = c.case;
    // A reading study's repeats of the case's images, apart from its images.
    const repeats = c.repeats ? ` · ${c.repeats_done}/${c.repeats} again` : "";
    const said = c.repeats ? `, ${c.repeats_done} of ${c.repeats} repeats read` : "";
    const button = this.jumpButton(c.case, `${c.labelled}/${c.total}${repeats}`, c.first_position, `${c.case}: ${c.labelled} of ${c.total} labelled${said}`);
    if (c.labelled === c.total && c.repeats_done === c.repeats) button.classList.add("done");
    li.append(button);
    if (c.visits.length) {
      const ul = document.createElement("ul");
      for (const v of c.visits) {
        const item = document.createElement("li");
        item.append(this.jumpButton(v.visit, `${v.total}`, v.first_position, `${c.case}, ${v.visit}: ${v.total} images`));
        ul.append(item);
      }
      li.append(ul);
    }
    return li;
  }

  jumpButton(text, count, position, accessibleName) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "jump";
    const name = document.createElement("span");
    name.textContent = text;
    const badge = document.createElement("span");
    badge.className = "count";
    badge.textContent = count;
    button.append(name, badge);
    button.setAttribute("aria-label", accessibleName);
    button.addEventListener("click", () => this.onJump(position));
    return button;
  }

  markCurrent(caseName) {
    this.currentCase = caseName;
    for (const li of this.list.children) {
      const button = li.querySelector("button");
      if (li.dataset.case === caseName) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }
}
