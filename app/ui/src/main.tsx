import "@mantine/core/styles.css";
import "./app.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { MantineProvider } from "@mantine/core";
import { App } from "./App.js";

// withCssVariables and withGlobalClasses off: Mantine would add its variables and its hiddenFrom /
// visibleFrom classes in <style> elements, which the page's Content-Security-Policy (no inline
// styles) refuses; the stylesheets above carry the default theme (app.css darkens what is too light to read) and the
// two classes tandem uses.
createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <MantineProvider forceColorScheme="light" withCssVariables={false} withGlobalClasses={false}>
      <App />
    </MantineProvider>
  </StrictMode>,
);
