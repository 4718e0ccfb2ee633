// 登录: the worker's account and password (the same accounts as every cityops screen).
import { useState } from "preact/hooks";
import { signIn } from "/shared/api.js";
import { errorText, html, Notice, transient } from "./ui.js";

export function LoginScreen({ online }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    if (!username.trim() || !password) return setError("请输入账号和密码");
    setBusy(true);
    setError(null);
    try {
      await signIn(username.trim(), password);
    } catch (e) {
      setError(e.status === 401 || e.status === 429 ? e.message : `${errorText(e)}${transient(e) ? "，请稍后再试" : ""}`);
      setBusy(false);
    }
  }

  return html`
    <form class="screen login" onSubmit=${submit} novalidate>
      <img class="logo" src="/app/icons/icon-192.png" alt="" width="96" height="96" />
      <h1>临港网格通</h1>
      <p class="hint">临港新片区“一网统管” · 网格员移动端</p>
      <label class="field">
        <span>账号</span>
        <input name="username" autocomplete="username" autocapitalize="off" value=${username}
          onInput=${(e) => setUsername(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>密码</span>
        <input name="password" type="password" autocomplete="current-password" value=${password}
          onInput=${(e) => setPassword(e.currentTarget.value)} />
      </label>
      ${!online && html`<${Notice} kind="warn">当前离线，联网后才能登录<//>`}
      <${Notice} kind="error">${error}<//>
      <button class="primary big" type="submit" disabled=${busy}>${busy ? "正在登录…" : "登录"}</button>
    </form>`;
}
