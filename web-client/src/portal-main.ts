// The portal page's entry: defines every element; index.html places <siprelay-portal>.
import './components/siprelay-portal.js';
