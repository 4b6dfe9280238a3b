import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { adoptTokenFromFragment } from "./api";
import { App } from "./App";
import "./styles.css";

adoptTokenFromFragment();
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
