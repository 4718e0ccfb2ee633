// The sign-in form every screen shows first, and the hook that follows who is signed in.
//
// <Gate title roles>{user => screen}</Gate>: the form until someone of one of ``roles`` signs
// in, then the screen. A 401 anywhere (api.js clears the session) brings the form back.
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { signIn, signOut, signOutEverywhere, session, onSession } from "./api.js";
import { ROLE, errorText } from "./labels.js";

const html = htm.bind(h);

export function useUser() {
  const [user, setUser] = useState(() => session()?.user || null);
  useEffect(() => onSession((tokens) => setUser(tokens?.user || null)), []);
  return user;
}

function LoginForm({ title, roles, refused }) {
  const [error, setError] = useState(refused || "");
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    const form = new FormData(e.target);
    setBusy(true);
    setError("");
    try {
      const user = await signIn(String(form.get("username")).trim(), String(form.get("password")));
      if (!roles.includes(user.role)) {
        signOut();
        setError(`此页面仅限${roles.map((r) => ROLE[r] || r).join("、")}使用（当前账号：${user.role_label || user.role}）`);
      }
    } catch (err) {
      const wait = err.retryAfter ? `，请 ${err.retryAfter} 秒后再试` : "";
      setError(err.status === 401 || err.status === 400 ? `用户名或密码不正确${wait}` : `登录失败：${errorText(err)}${wait}`);
    } finally {
      setBusy(false);
    }
  }
  return html`<main class="login">
    <form class="card" onSubmit=${submit}>
      <h1>临港新片区 一网统管</h1>
      <h2>${title}</h2>
      <label>用户名<input name="username" autocomplete="username" required autofocus /></label>
      <label>密码<input name="password" type="password" autocomplete="current-password" required /></label>
      <button class="primary" disabled=${busy}>${busy ? "登录中…" : "登录"}</button>
      ${error && html`<p class="err" role="alert">${error}</p>`}
    </form>
  </main>`;
}

export function Gate({ title, roles, children }) {
  const user = useUser();
  if (!user || !roles.includes(user.role)) {
    const refused = user ? `此页面仅限${roles.map((r) => ROLE[r] || r).join("、")}使用` : "";
    return html`<${LoginForm} title=${title} roles=${roles} refused=${refused} />`;
  }
  return children(user);
}

export function UserBadge({ user }) {
  const where = [user.department_name || user.department, user.town_name || user.town].filter(Boolean).join(" · ");
  return html`<span class="user">
    <b>${user.name || user.user_id}</b> <span class="role">${user.role_label || ROLE[user.role] || user.role}</span>
    ${where && html` <span class="where">${where}</span>`}
    <button class="link" onClick=${() => signOut()}>退出</button>
    <button class="link" title="手机丢失、在公用电脑上登录过时使用：其他设备上的登录一并失效" onClick=${everywhere}>退出所有设备</button>
  </span>`;
}

async function everywhere() {
  if (!confirm("在所有设备上退出？本人在其他电脑和手机上的登录都将失效，需要重新登录。")) return;
  try {
    await signOutEverywhere();
  } catch (e) {
    alert(`未能在所有设备上退出：${errorText(e)}`);
  }
}
