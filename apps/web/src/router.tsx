/** A tiny path router (history API): the five pages and links between them. */
import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from "react";

export const PAGES = [
  { path: "/", label: "Overview" },
  { path: "/accounts", label: "Two sides of one account" },
  { path: "/rollout", label: "Rollout" },
  { path: "/advertiser", label: "Advertiser view" },
  { path: "/reports", label: "Load reports" },
] as const;

/** The current location (path and query), updated on navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const read = () => ({ path: window.location.pathname, query: new URLSearchParams(window.location.search) });
  const [location, setLocation] = useState(read);
  useEffect(() => {
    const update = () => setLocation(read());
    window.addEventListener("popstate", update);
    window.addEventListener("handshake:navigate", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("handshake:navigate", update);
    };
  }, []);
  return location;
}

/** Goes to `href` without reloading the page. */
export function navigate(href: string): void {
  window.history.pushState(null, "", href);
  window.dispatchEvent(new Event("handshake:navigate"));
}

/** An ordinary link that navigates in place (modifier-clicks still open a new tab). */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    props.onClick?.(event);
    if (event.defaultPrevented || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(props.href);
  };
  return <a {...props} onClick={onClick} />;
}
