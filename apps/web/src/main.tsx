import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { adoptTokenFromFragment, createDashboardClients, FacebookProvider, MessengerProvider } from "./api";
import { App } from "./App";
import "./styles.css";

adoptTokenFromFragment();
const { queryClient, messenger, facebook } = createDashboardClients();
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <MessengerProvider trpcClient={messenger} queryClient={queryClient} keyPrefix="messenger">
        <FacebookProvider trpcClient={facebook} queryClient={queryClient} keyPrefix="facebook">
          <App />
        </FacebookProvider>
      </MessengerProvider>
    </QueryClientProvider>
  </StrictMode>,
);
