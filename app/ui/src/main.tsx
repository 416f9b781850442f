import "@mantine/core/styles.css";
import "./app.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { MantineProvider, Modal, createTheme } from "@mantine/core";
import { App } from "./App.js";

// withCssVariables and withGlobalClasses off: Mantine would add its variables and its hiddenFrom /
// visibleFrom classes in <style> elements, which the page's Content-Security-Policy (no inline
// styles) refuses; the stylesheets above carry the default theme (app.css darkens what is too light to read) and the
// two classes tandem uses.
// Modals without scroll lock: react-remove-scroll would add a <style> element the CSP refuses.
const theme = createTheme({ components: { Modal: Modal.extend({ defaultProps: { lockScroll: false } }) } });

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <MantineProvider theme={theme} forceColorScheme="light" withCssVariables={false} withGlobalClasses={false}>
      <App />
    </MantineProvider>
  </StrictMode>,
);
