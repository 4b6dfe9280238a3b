/** The shell: skip link, header with the navigation, the page (routed by wouter), and the token gate. */
import { useEffect, useState, type FormEvent } from "react";
import { Link, Route, Switch, useLocation } from "wouter";
import { adminToken, adoptTokenFromFragment, setAdminToken } from "./api";
import { PAGES } from "./pages";

export function App() {
  const [path] = useLocation();
  const [token, setToken] = useState(adminToken());
  // An unknown path shows the overview (the first page), as before.
  const page = PAGES.find((p) => p.path === path) ?? PAGES[0]!;

  // A `#token=…` pasted into an open tab arrives as a hash change, not a page load.
  useEffect(() => {
    const adopt = () => {
      adoptTokenFromFragment();
      setToken(adminToken());
    };
    window.addEventListener("hashchange", adopt);
    return () => window.removeEventListener("hashchange", adopt);
  }, []);

  useEffect(() => {
    document.title = `${token ? page.label : "Admin token needed"} · Handshake`;
  }, [page, token]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <p className="brand">
          Handshake <span>dashboard</span>
        </p>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <Link to={p.path} aria-current={p.path === page.path ? "page" : undefined}>
                  {p.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {!token ? (
          <TokenGate onToken={(t) => setToken(t)} />
        ) : (
          <Switch>
            {PAGES.map((p) => (
              <Route key={p.path} path={p.path} component={p.component} />
            ))}
            <Route component={PAGES[0]!.component} />
          </Switch>
        )}
      </main>
      <footer className="site-footer">
        <p>Simulation of WhatsApp&rsquo;s 2016 account-data sharing with Facebook. Message content stays end-to-end encrypted and never appears here.</p>
      </footer>
    </>
  );
}

/** Shown without an admin token: how to get one, and a field to paste it. */
function TokenGate({ onToken }: { onToken: (token: string) => void }) {
  const [value, setValue] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!value.trim()) return;
    setAdminToken(value);
    onToken(value.trim());
  };
  return (
    <section aria-labelledby="token-title" className="panel narrow">
      <h1 id="token-title">Admin token needed</h1>
      <p>
        This dashboard shows per-account data, so both services ask for their admin token. Open the address that{" "}
        <code>pnpm dev</code> printed — it ends in <code>#token=…</code> — or paste the <code>adminToken</code> from{" "}
        <code>.data/stack.json</code> below. It is kept for this tab only.
      </p>
      <form onSubmit={submit} className="inline-form">
        <label htmlFor="token-input">Admin token</label>
        <input id="token-input" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} />
        <button type="submit">Use token</button>
      </form>
    </section>
  );
}
