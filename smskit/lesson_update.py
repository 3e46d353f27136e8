"""A lesson's newer version on the browser edition's site, offered to a learner who has their own.

JupyterLite keeps a notebook the learner saved in the browser's storage and prefers it to the
site's copy, so a lesson the instructor fixes and rebuilds never reaches that learner (jupyterlite
issues 407, 1067, 1812). JupyterLite 0.8 has no setting for this: its only storage choice is
volatile memory, which loses the learner's work at every reload. So the build stamps each lesson
with a hash of its cells (`metadata.smskit.version`, lite.build.stamp_versions), and the lesson's
first code cell calls offer_newer_version. In the browser, that displays a small script run by the
page (the kernel, a web worker, cannot reach the open notebook, and reaches the browser's storage
only through a service worker, which a room's plain-http address does not get). The script:

- compares the open notebook's stamp with the site's copy of the lesson, fetched from the site;
- when they differ, shows one line and a button; the button saves the open notebook (unsaved edits
  included) as "NN_... (mine).ipynb" beside it, saves the site's version under the lesson's name,
  and reloads the open notebook from it: one click, nothing lost.

On the desktop (real files, no site) it does nothing and prints nothing.
"""

from __future__ import annotations

import json

from .edition import IN_BROWSER

# Run by JupyterLab's JavaScript renderer in the page: `element` is this output's node, and
# window.jupyterapp is the app (lite/jupyter-lite.json exposes it).
PAGE_SCRIPT = """
(async () => {
  const app = window.jupyterapp;
  for (let wait = 0; !element.isConnected && wait < 100; wait++) {
    await new Promise((resolve) => setTimeout(resolve, 50));  // rendered before it is attached
  }
  const panel = app && [...app.shell.widgets("main")].find(
    (widget) => widget.context && widget.node.contains(element));
  if (!panel || panel.context.path.split("/").pop() !== lesson) return;  // e.g. a kept copy
  const path = panel.context.path;
  const base = new URL(app.serviceManager.serverSettings.baseUrl, location.href);
  const url = new URL("files/" + path.split("/").map(encodeURIComponent).join("/"), base);
  let site;
  try {
    const answer = await fetch(url, {cache: "no-cache"});
    if (!answer.ok) return;
    site = await answer.json();
  } catch (error) {
    return;  // no site to compare with
  }
  const theirs = site.metadata?.smskit?.version;
  const newer = Boolean(theirs) && theirs !== panel.context.model.getMetadata("smskit")?.version;
  element.dataset.smskitNewer = newer;  // for the tests: the check is done
  if (!newer) return;
  const kept = lesson.replace(/\\.ipynb$/, " (mine).ipynb");
  const line = document.createElement("p");
  line.textContent = `The site has a newer version of ${lesson}. `;
  const button = document.createElement("button");
  button.className = "jp-Button jp-mod-styled jp-mod-accept smskit-take-update";
  button.textContent = `Take it, and keep yours as ${kept}`;
  line.append(button);
  element.replaceChildren(line);
  button.onclick = async () => {
    button.disabled = true;
    const contents = app.serviceManager.contents;
    const folder = path.slice(0, path.length - lesson.length);
    let copy = folder + kept;
    for (let n = 2; await contents.get(copy, {content: false}).then(() => true, () => false); n++) {
      copy = folder + lesson.replace(/\\.ipynb$/, ` (mine ${n}).ipynb`);
    }
    const notebook = (content) => ({type: "notebook", format: "json", content});
    await contents.save(copy, notebook(panel.context.model.toJSON()));
    await contents.save(path, notebook(site));
    await panel.context.revert();
    app.commands.execute("apputils:notify", {
      message: `This is the new version of ${lesson}; yours is kept in ${copy}.`,
      type: "success", options: {autoClose: false}});
  };
})();
"""


def offer_newer_version(lesson: str) -> None:
    """In the browser, offer the site's newer version of lesson ("01_http_cookies.ipynb", say)
    when the open notebook is older, keeping the learner's copy. On the desktop: nothing."""
    if not IN_BROWSER:
        return
    from IPython.display import display  # the Pyodide kernel is IPython

    script = f"const lesson = {json.dumps(lesson)};\n{PAGE_SCRIPT}"
    display({"application/javascript": script, "text/plain": ""}, raw=True)
